// The build facts a policy can pin, read from a verified SLSA provenance statement. Only the fields
// npm's GitHub Actions provenance fills are read; absent or oddly-typed fields stay undefined rather
// than guessed. These are claims signed by the build's certificate; the certificate's own Fulcio
// claims (identity.ts) are the independent record to compare them with.

import { withoutUndefined } from '../encoding';
import { EvidenceError } from '../error';
import type { ProvenanceClaims } from '../types';

export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: predicates are untyped JSON, read field by field
type Json = any;

function runnerOf(builderId: string | undefined): string | undefined {
  const last = builderId?.split('/').pop();
  return last === 'github-hosted' || last === 'self-hosted' ? last : undefined;
}

function fromV1(predicate: Json): ProvenanceClaims {
  const workflow = predicate?.buildDefinition?.externalParameters?.workflow;
  const github = predicate?.buildDefinition?.internalParameters?.github;
  const builderId = str(predicate?.runDetails?.builder?.id);
  return {
    predicateType: SLSA_V1,
    slsaVersion: '1',
    repository: str(workflow?.repository),
    workflowPath: str(workflow?.path),
    ref: str(workflow?.ref),
    event: str(github?.event_name),
    builderId,
    runner: runnerOf(builderId),
    repositoryId: str(github?.repository_id),
    repositoryOwnerId: str(github?.repository_owner_id),
  };
}

// v0.2 (npm CLI "gha/v2" build type): configSource.uri is "git+<repository>@<ref>".
function fromV02(predicate: Json): ProvenanceClaims {
  const config = predicate?.invocation?.configSource;
  const env = predicate?.invocation?.environment;
  const uri = str(config?.uri);
  const match = uri ? /^git\+(.+?)@(refs\/.+)$/.exec(uri) : null;
  const builderId = str(predicate?.builder?.id);
  return {
    predicateType: SLSA_V02,
    slsaVersion: '0.2',
    repository: match?.[1],
    workflowPath: str(config?.entryPoint),
    ref: str(env?.GITHUB_REF) ?? match?.[2],
    event: str(env?.GITHUB_EVENT_NAME),
    builderId,
    runner: runnerOf(builderId),
    repositoryId: str(env?.GITHUB_REPOSITORY_ID),
    repositoryOwnerId: str(env?.GITHUB_REPOSITORY_OWNER_ID),
  };
}

export function isProvenance(predicateType: string): boolean {
  return predicateType === SLSA_V1 || predicateType === SLSA_V02;
}

export function provenanceClaims(predicateType: string, predicate: unknown): ProvenanceClaims {
  if (!predicate || typeof predicate !== 'object') {
    throw new EvidenceError('PROVENANCE_MALFORMED', `${predicateType} predicate is not an object`);
  }
  return withoutUndefined(predicateType === SLSA_V1 ? fromV1(predicate) : fromV02(predicate));
}
