// `tollgate-server tuf rotate --data DIR --role ROLE` and `tollgate-server tuf root --data DIR
// [--version N]`: key rotation for the instance's TUF repository, and the root.json clients commit.
// Rotation takes the data folder's lock, so it runs while the server is stopped; the next start
// serves the new root version, which clients follow because the old root key signed it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireDataLock } from '../data-lock';
import { ConfigError } from '../errors';
import { TUF_ROLES, TufRepository, type TufRole } from './repository';

export const TUF_USAGE = `       tollgate-server tuf rotate --data DIR --role root|targets|snapshot|timestamp
                             replace one TUF role key (server stopped); the new root version is signed
                             by the old root key, so clients holding an older root follow it
       tollgate-server tuf root --data DIR [--version N]
                             print root.json (default: the newest; --version 1 is the start of the
                             chain clients commit as trustRoots.<name>.root)`;

export function runTufCommand(argv: string[], out: (text: string) => void): void {
  const [sub, ...rest] = argv;
  let values: { data?: string; role?: string; version?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { data: { type: 'string' }, role: { type: 'string' }, version: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${TUF_USAGE}`);
  }
  if (!values.data) throw new ConfigError(`tuf ${sub ?? ''} needs --data DIR\n${TUF_USAGE}`);
  const dataDir = resolve(values.data);
  if (!existsSync(join(dataDir, 'keys'))) {
    throw new ConfigError(
      `${dataDir} holds no tollgate-server instance (no keys folder); start the server once with --data ${values.data}`,
    );
  }
  if (sub === 'root') {
    const repo = TufRepository.open(dataDir);
    const version = values.version === undefined ? repo.rootVersion : Number(values.version);
    if (!Number.isInteger(version) || version < 1 || version > repo.rootVersion)
      throw new ConfigError(`--version must be 1 to ${repo.rootVersion}, got "${values.version}"`);
    out(repo.rootJson(version).toString('utf8'));
    return;
  }
  if (sub === 'rotate') {
    const role = values.role as TufRole;
    if (!TUF_ROLES.includes(role))
      throw new ConfigError(`--role must be one of ${TUF_ROLES.join(', ')}, got "${values.role ?? ''}"`);
    const lock = acquireDataLock(dataDir);
    try {
      const repo = TufRepository.open(dataDir);
      const { rootVersion, keyId } = repo.rotateKey(role);
      out(
        `rotated the ${role} key: new key ${keyId}; root.json is now version ${rootVersion} (signed by the previous root key${role === 'root' ? ' and the new one' : ''})\n`,
      );
    } finally {
      lock.release();
    }
    return;
  }
  throw new ConfigError(`unknown tuf command "${sub ?? ''}"\n${TUF_USAGE}`);
}
