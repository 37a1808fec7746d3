// The public-good trust material that ships inside @sigstore/tuf (seeds.json): the trusted_root.json
// and the npm registry keys, as they were when that package version was published. Read at bundle
// time, so using them needs neither the network nor the file system.
import seeds from '@sigstore/tuf/seeds.json' with { type: 'json' };

const PUBLIC_GOOD_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';
const TRUSTED_ROOT_TARGET = 'trusted_root.json';
const NPM_KEYS_TARGET = 'registry.npmjs.org%2Fkeys.json';

type SeedFile = Record<string, { targets: Record<string, string> }>;

function seedTarget(name: string): string {
  const repo = (seeds as SeedFile)[PUBLIC_GOOD_MIRROR];
  const encoded = repo?.targets?.[name];
  if (!encoded) {
    throw new Error(`@sigstore/tuf seeds.json has no "${name}" target; reinstall @sigstore/tuf`);
  }
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/** The public-good trusted_root.json embedded in @sigstore/tuf, as JSON text. */
export function embeddedPublicGoodTrustedRoot(): string {
  return seedTarget(TRUSTED_ROOT_TARGET);
}

/** The npm registry keys document embedded in @sigstore/tuf (`{keys: [...]}`), as JSON text. */
export function embeddedNpmRegistryKeys(): string {
  return seedTarget(NPM_KEYS_TARGET);
}

/** The public-good TUF repository and the root.json embedded in @sigstore/tuf that its chain starts from. */
export function embeddedPublicGoodTufRoot(): { metadataUrl: string; root: Buffer } {
  const encoded = (seeds as unknown as Record<string, { 'root.json'?: string }>)[PUBLIC_GOOD_MIRROR]?.[
    'root.json'
  ];
  if (!encoded) throw new Error('@sigstore/tuf seeds.json has no root.json; reinstall @sigstore/tuf');
  return { metadataUrl: PUBLIC_GOOD_MIRROR, root: Buffer.from(encoded, 'base64') };
}

/** Names of the public-good targets Tollgate reads. */
export const PUBLIC_GOOD_TARGETS = { trustedRoot: TRUSTED_ROOT_TARGET, npmKeys: NPM_KEYS_TARGET } as const;
