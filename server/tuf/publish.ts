// Opens the instance's TUF repository and publishes the current trusted root and signing config as
// its targets (a new targets version only when their bytes changed, e.g. the server's URL).
import { TufRepository } from './repository';

export const TRUSTED_ROOT_TARGET = 'trusted_root.json';
export const SIGNING_CONFIG_TARGET = 'signing_config.v0.2.json';

export function publishTrust(
  dataDir: string,
  trustedRoot: Record<string, unknown>,
  signingConfig: Record<string, unknown>,
): TufRepository {
  const repo = TufRepository.open(dataDir);
  repo.refresh({
    [TRUSTED_ROOT_TARGET]: Buffer.from(`${JSON.stringify(trustedRoot, null, 2)}\n`),
    [SIGNING_CONFIG_TARGET]: Buffer.from(`${JSON.stringify(signingConfig, null, 2)}\n`),
  });
  return repo;
}
