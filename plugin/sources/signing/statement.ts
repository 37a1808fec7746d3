// In-toto statements for npm packages, in the shapes npm itself produces, so that any verifier that
// understands npm provenance understands Tollgate's. Pure: no Yarn, no network.

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const NPM_PUBLISH_PREDICATE = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const GITHUB_WORKFLOW_BUILD_TYPE =
  'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1';

export interface PackageSubject {
  name: string;
  version: string;
  /** sha512 SRI of the exact .tgz ("sha512-<base64>") */
  integrity: string;
}

/** `pkg:npm/%40scope/name@1.0.0`, as npm writes the subject of its attestations. */
export function npmPurl(name: string, version: string): string {
  return `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
}

export function sha512Hex(integrity: string): string {
  if (!integrity.startsWith('sha512-')) throw new Error(`expected a sha512 integrity, got "${integrity}"`);
  return Buffer.from(integrity.slice('sha512-'.length), 'base64').toString('hex');
}

function subject(pkg: PackageSubject) {
  return [{ name: npmPurl(pkg.name, pkg.version), digest: { sha512: sha512Hex(pkg.integrity) } }];
}

/** npm's publish attestation: who published which tarball to which registry. */
export function publishStatement(pkg: PackageSubject, registry: string): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: subject(pkg),
    predicateType: NPM_PUBLISH_PREDICATE,
    predicate: { name: pkg.name, version: pkg.version, registry },
  };
}

/** The build facts a CI identity token (and so the signing certificate) vouches for. */
export interface BuildClaims {
  /** e.g. "https://github.com/acme/utils" */
  repositoryUrl: string;
  /** e.g. ".github/workflows/release.yml" */
  workflowPath: string;
  /** e.g. "refs/tags/v1.2.3" */
  ref: string;
  /** e.g. "push" */
  eventName: string;
  repositoryId?: string;
  repositoryOwnerId?: string;
  /** "github-hosted" | "self-hosted" */
  runnerEnvironment?: string;
  /** commit the build ran on */
  commitSha?: string;
  /** a URL identifying this run */
  invocationId?: string;
}

/** SLSA v1 provenance in the GitHub Actions workflow build type, as npm publishes it. */
export function provenanceStatement(pkg: PackageSubject, build: BuildClaims): Record<string, unknown> {
  const runner = build.runnerEnvironment ?? 'github-hosted';
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: subject(pkg),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: GITHUB_WORKFLOW_BUILD_TYPE,
        externalParameters: {
          workflow: { ref: build.ref, repository: build.repositoryUrl, path: build.workflowPath },
        },
        internalParameters: {
          github: {
            event_name: build.eventName,
            repository_id: build.repositoryId,
            repository_owner_id: build.repositoryOwnerId,
            runner_environment: runner,
          },
        },
        resolvedDependencies: [
          {
            uri: `git+${build.repositoryUrl}@${build.ref}`,
            ...(build.commitSha ? { digest: { gitCommit: build.commitSha } } : {}),
          },
        ],
      },
      runDetails: {
        builder: { id: `https://github.com/actions/runner/${runner}` },
        metadata: build.invocationId ? { invocationId: build.invocationId } : {},
      },
    },
  };
}
