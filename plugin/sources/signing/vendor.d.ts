// The parts of pacote 21 and npm-package-arg 13 that signing uses (neither ships type declarations).
declare module 'pacote' {
  interface PacoteManifest {
    name: string;
    version: string;
    _resolved?: string;
    _integrity?: string;
    _from?: string;
  }
  interface PacoteTarball extends Buffer {
    integrity?: string;
    resolved?: string;
    from?: string;
  }
  export function manifest(spec: string, options?: Record<string, unknown>): Promise<PacoteManifest>;
  export function tarball(spec: string, options?: Record<string, unknown>): Promise<PacoteTarball>;
}

declare module 'npm-package-arg' {
  interface ParsedSpec {
    type: 'git' | 'tag' | 'version' | 'range' | 'file' | 'directory' | 'remote' | 'alias';
    name: string | null;
    scope: string | null;
    rawSpec: string;
    registry?: boolean;
  }
  function npa(spec: string): ParsedSpec;
  export default npa;
}
