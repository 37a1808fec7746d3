// `TrustUpdateCommand`'s implementation, loaded when the command runs (../trust-update.ts declares it).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Configuration, StreamReport } from '@yarnpkg/core';
import { trustRootsToLoad } from '../../../../policy';
import { loadTrustRoots } from '../../../../policy/evidence';
import { TufError } from '../../../../policy/evidence/trust/tuf-error';
import {
  describeAge,
  type ResolvedTufTrustRoot,
  resolvePublicGoodTrustRoot,
  resolveTufTrustRoot,
} from '../../../../policy/evidence/trust/tuf-trust-root';
import { ConfigurationProblem, loadConfiguredPolicy, openCacheKey } from '../../engine/context';
import { prefetchPolicyBases } from '../../engine/policy-bases';
import { messageName, TollgateMessage } from '../../messages';
import { readSettings } from '../../settings';
import { EXIT } from '../command-support';
import type TrustUpdateCommand from '../trust-update';

export async function execute(this: TrustUpdateCommand) {
  const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
  let exit: number = EXIT.OK;
  await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      const code = messageName(TollgateMessage.TRUST);
      const settings = readSettings(configuration);
      const problem = (message: string) => {
        report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${message}`);
        exit = EXIT.USAGE;
      };
      if (settings.offline) {
        problem('trust update needs the network, and tollgateOffline is set');
        return;
      }
      let secret: Buffer;
      let loaded: ReturnType<typeof loadConfiguredPolicy>;
      await prefetchPolicyBases(settings);
      try {
        loaded = loadConfiguredPolicy(settings);
        secret = openCacheKey(settings);
      } catch (err) {
        if (!(err instanceof ConfigurationProblem)) throw err;
        problem(err.message);
        for (const line of err.details) report.reportError(messageName(TollgateMessage.POLICY_ERROR), line);
        return;
      }
      const common = {
        cacheRoot: settings.cacheFolder,
        secret,
        mode: 'online' as const,
        timeoutMs: settings.networkTimeoutMs,
      };
      const jobs: Array<{ name: string; url: string; run: () => Promise<ResolvedTufTrustRoot> }> = [
        {
          name: 'public-good',
          url: settings.publicGoodTufUrl ?? 'the public-good TUF repository',
          run: () =>
            resolvePublicGoodTrustRoot({
              ...common,
              ...(settings.publicGoodTufUrl ? { metadataUrl: settings.publicGoodTufUrl } : {}),
            }),
        },
      ];
      for (const root of trustRootsToLoad(loaded.policy)) {
        if (root.tuf === undefined || root.root === undefined) continue;
        const anchorPath = resolve(dirname(settings.policyPath!), root.root);
        jobs.push({
          name: root.name,
          url: root.tuf,
          run: async () => {
            let anchor: Buffer;
            try {
              anchor = readFileSync(anchorPath);
            } catch (err) {
              throw new TufError(
                'TUF_ROOT_INVALID',
                `${anchorPath} (trustRoots.${root.name}.root in ${loaded.file}) cannot be read (${(err as NodeJS.ErrnoException).code}); commit the repository's root.json there`,
              );
            }
            return resolveTufTrustRoot({
              ...common,
              name: root.name,
              metadataUrl: root.tuf!,
              anchorRoot: anchor,
            });
          },
        });
      }
      const unknown = this.names.filter((n) => !jobs.some((j) => j.name === n));
      if (unknown.length) {
        problem(
          `no TUF trust root named ${unknown.join(', ')} (TUF roots: ${jobs.map((j) => j.name).join(', ')}; file roots are not refreshed)`,
        );
        return;
      }
      const now = new Date();
      for (const job of jobs) {
        if (this.names.length && !this.names.includes(job.name)) continue;
        try {
          const result = await job.run();
          for (const notice of result.notices) report.reportWarning(code, `Tollgate: ${notice}`);
          if (result.from === 'last-verified' || result.from === 'embedded') {
            report.reportError(code, `Tollgate: ${job.name}: not refreshed from ${job.url}`);
            exit = EXIT.VIOLATIONS;
            continue;
          }
          // The refreshed root must also be usable for verification, not only well-signed.
          loadTrustRoots([result.spec], { embeddedNpmKeys: false });
          report.reportInfo(
            code,
            `Tollgate: ${job.name}: trusted root refreshed from ${job.url} (TUF root v${result.rootVersion}, timestamp valid until ${result.timestampExpires?.toISOString()}; verified ${result.verifiedAt ? `${describeAge(result.verifiedAt, now)} ago` : 'now'})`,
          );
          report.reportJson({
            type: 'tollgate-trust-root',
            name: job.name,
            url: job.url,
            ok: true,
            rootVersion: result.rootVersion,
            timestampExpires: result.timestampExpires?.toISOString() ?? null,
            verifiedAt: result.verifiedAt?.toISOString() ?? null,
          });
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          const tufCode = err instanceof TufError ? err.code : 'TRUST_ROOT_INVALID';
          report.reportError(code, `Tollgate: ${job.name}: ${message}`);
          report.reportJson({
            type: 'tollgate-trust-root',
            name: job.name,
            url: job.url,
            ok: false,
            code: tufCode,
            message,
          });
          exit = EXIT.VIOLATIONS;
        }
      }
    },
  );
  return exit;
}
