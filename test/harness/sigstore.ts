import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { attest } from 'sigstore';
import {
  type BuildClaims,
  IN_TOTO_PAYLOAD_TYPE,
  provenanceStatement,
  publishStatement,
} from '../../plugin/sources/signing/statement';
import type { BuiltPackage } from './packages';
import { requireBuilt, serverBin, tempDir } from './paths';
import { startAnnouncing, stopChild } from './process';
import type { Scope } from './scope';

/** A person or a CI workflow, as the dev issuer of tollgate-server mints them. */
export type TestIdentity =
  | { kind: 'email'; email: string }
  | {
      kind: 'workflow';
      repository: string;
      workflow: string;
      ref: string;
      event?: string;
      repositoryId?: string;
      ownerId?: string;
      runner?: string;
    };

export interface SigstoreServer {
  url: string;
  /** the dev issuer's URL: the `issuer` of every identity it mints */
  issuer: string;
  trustedRootJson: string;
  dataDir: string;
  token(identity: TestIdentity): Promise<string>;
  /** Keyless-signs an npm attestation for the exact tarball: provenance for workflows, publish otherwise. */
  signPackage(
    pkg: BuiltPackage,
    identity: TestIdentity,
    options?: { registry?: string },
  ): Promise<Record<string, any>>;
  /** Adds a bundle to the attestation store for name@version (the store verifies it first). */
  attach(name: string, version: string, bundle: unknown): Promise<void>;
  stop(): Promise<void>;
}

export function workflowClaims(identity: Extract<TestIdentity, { kind: 'workflow' }>): BuildClaims {
  return {
    repositoryUrl: `https://github.com/${identity.repository}`,
    workflowPath: identity.workflow,
    ref: identity.ref,
    eventName: identity.event ?? 'push',
    repositoryId: identity.repositoryId,
    repositoryOwnerId: identity.ownerId,
    runnerEnvironment: identity.runner ?? 'github-hosted',
  };
}

/** Starts the real tollgate-server executable on 127.0.0.1 (CA, log, dev OIDC issuer, attestation store). */
export async function startSigstoreServer(scope: Scope, label = 'sigstore'): Promise<SigstoreServer> {
  const dataDir = join(tempDir(`server-${label}`), 'data');
  mkdirSync(dataDir, { recursive: true });
  const started = await startAnnouncing<{ url: string; trustedRoot: string; dataDir: string }>(
    process.execPath,
    [requireBuilt(serverBin), '--data', dataDir, '--port', '0'],
    { cwd: dataDir, name: `tollgate-server (${label})` },
  );
  scope.defer(() => stopChild(started.child));
  const { url } = started.ready;
  const trustedRootJson = await (await fetch(started.ready.trustedRoot)).text();
  const issuer = `${url}/oidc`;

  const token = async (identity: TestIdentity): Promise<string> => {
    const body =
      identity.kind === 'email'
        ? { sub: identity.email, email: identity.email }
        : {
            sub: `repo:${identity.repository}:ref:${identity.ref}`,
            claims: {
              repository: identity.repository,
              repository_owner: identity.repository.split('/')[0],
              repository_id: identity.repositoryId ?? '1000',
              repository_owner_id: identity.ownerId ?? '2000',
              workflow_ref: `${identity.repository}/${identity.workflow}@${identity.ref}`,
              job_workflow_ref: `${identity.repository}/${identity.workflow}@${identity.ref}`,
              ref: identity.ref,
              event_name: identity.event ?? 'push',
              runner_environment: identity.runner ?? 'github-hosted',
              sha: 'a'.repeat(40),
            },
          };
    const res = await fetch(`${url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`tollgate-server refused a token: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id_token: string }).id_token;
  };

  return {
    url,
    issuer,
    trustedRootJson,
    dataDir,
    token,
    async signPackage(pkg, identity, options) {
      const subject = { name: pkg.name, version: pkg.version, integrity: pkg.integrity };
      const statement =
        identity.kind === 'workflow'
          ? provenanceStatement(subject, workflowClaims(identity))
          : publishStatement(subject, options?.registry ?? 'https://registry.invalid/');
      const bundle = await attest(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE, {
        fulcioURL: url,
        rekorURL: url,
        identityToken: await token(identity),
        tlogUpload: true,
      });
      return JSON.parse(JSON.stringify(bundle));
    },
    async attach(name, version, bundle) {
      const encoded = name.startsWith('@')
        ? `@${encodeURIComponent(name.slice(1))}`
        : encodeURIComponent(name);
      const res = await fetch(`${url}/-/npm/v1/attestations/${encoded}@${version}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(bundle),
      });
      if (res.status !== 200 && res.status !== 201) {
        throw new Error(
          `the attestation store refused ${name}@${version}: ${res.status} ${await res.text()}`,
        );
      }
    },
    stop: () => stopChild(started.child),
  };
}
