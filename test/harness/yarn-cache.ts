// Yarn's own Cache class on a throwaway folder, for the tests of what the gate wraps around it
// (fetch contexts, the patch-build witness), and archives to load into it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cache, Configuration } from '@yarnpkg/core';
import { npath, ppath, xfs } from '@yarnpkg/fslib';
import { ZipFS } from '@yarnpkg/libzip';

let caches = 0;

/** A new Cache in its own folder under `dir`; `globalFolder` (the mirror) may be shared between caches. */
export async function newYarnCache(
  dir: string,
  settings: Record<string, unknown> = {},
  globalFolder = join(dir, `global-${++caches}`),
): Promise<{ cache: Cache; globalFolder: string }> {
  const configuration = Configuration.create(npath.toPortablePath(dir));
  configuration.use(
    '<test>',
    { globalFolder: npath.toPortablePath(globalFolder), enableMirror: true, ...settings },
    npath.toPortablePath(dir),
    { overwrite: true },
  );
  const cacheFolder = join(dir, `cache-${++caches}`);
  mkdirSync(cacheFolder);
  const cache = new Cache(npath.toPortablePath(cacheFolder), { configuration });
  await cache.setup();
  return { cache, globalFolder };
}

/** A package archive as a cache loader returns it: acme's index.js holding `text`. */
export async function acmeArchive(text = ''): Promise<ZipFS> {
  const zip = new ZipFS(ppath.join(await xfs.mktempPromise(), 'archive.zip'), { create: true });
  zip.mkdirSync(npath.toPortablePath('/node_modules/acme'), { recursive: true });
  zip.writeFileSync(npath.toPortablePath('/node_modules/acme/index.js'), text);
  return zip;
}
