export function buildPlugin(
  root: string,
  options?: { minify?: boolean; write?: boolean },
): Promise<{ outfile: string; text: string; metafile: unknown; lazyChunks: string[] }>;
