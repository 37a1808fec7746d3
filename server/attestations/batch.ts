// POST /-/tollgate/v1/attestations {"packages": ["<name>@<version>", ...]}: what GET
// /-/npm/v1/attestations/{name}@{version} answers, for many versions in one request. An install with
// a lockfile asks for every package it is about to fetch; one request per package was most of what the
// store cost a CI checkout. Answers {"packages": {"<spec as asked>": {"attestations": [...]}}}: a
// version without attestations gets an empty list; versions left out (the answer's size is bounded)
// are to be asked one by one.
import { badRequest } from '../errors';
import type { AttestationStore } from './store';
import { parsePackageSpec } from './store';

export const MAX_BATCH_PACKAGES = 512;
/** stored bytes one answer carries at most, past the first version */
export const MAX_BATCH_ANSWER_BYTES = 16 * 1024 * 1024;

export function listManyAttestations(
  store: AttestationStore,
  body: unknown,
): { packages: Record<string, { attestations: unknown[] }> } {
  const specs = (body as { packages?: unknown })?.packages;
  if (!Array.isArray(specs) || specs.length === 0 || specs.length > MAX_BATCH_PACKAGES) {
    throw badRequest(
      `the body must be {"packages": ["<name>@<version>", ...]} with 1 to ${MAX_BATCH_PACKAGES} entries`,
    );
  }
  const pkgs = specs.map((spec, i) => {
    if (typeof spec !== 'string') throw badRequest(`packages[${i}] must be a string "<name>@<version>"`);
    return parsePackageSpec(spec);
  });
  const answers = store.listMany(pkgs, MAX_BATCH_ANSWER_BYTES);
  const packages: Record<string, { attestations: unknown[] }> = Object.create(null);
  answers.forEach((attestations, i) => {
    packages[specs[i] as string] = { attestations };
  });
  return { packages };
}
