// `InitCommand`'s implementation, loaded when the command runs (../init.ts declares it).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { StreamReport } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import { npmConfigUtils } from '@yarnpkg/plugin-npm';
import { stringify } from 'yaml';
import { DEFAULT_POLICY_FILE, loadPolicy, normalizeRegistryUrl } from '../../../../policy';
import policySchema from '../../../../policy/schema/tollgate-policy.schema.json';
import { lockfileChecks } from '../../engine/lockfile-checks';
import { runChecks } from '../../engine/run-checks';
import { buildStarterPolicy } from '../../init-policy';
import { messageName, TollgateMessage } from '../../messages';
import { readSettings } from '../../settings';
import { type CommandProject, EXIT, openEngine, withProject } from '../command-support';
import type InitCommand from '../init';

/** Where init puts the policy's JSON Schema, next to the policy, for editors that complete from it. */
export const SCHEMA_FILE = '.tollgate/tollgate-policy.schema.json';

function writeSchema(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(policySchema, null, 2)}\n`);
}

function normalized(url: string): string {
  const n = normalizeRegistryUrl(url);
  return 'url' in n ? n.url : url;
}

export async function execute(this: InitCommand) {
  return withProject(this.context, this.cwd, (opened) => run.call(this, opened));
}

async function run(this: InitCommand, { configuration, project, cache }: CommandProject): Promise<number> {
  const settings = readSettings(configuration);
  const policyPath = settings.policyPath ?? resolve(settings.projectCwd, DEFAULT_POLICY_FILE);
  const display = relative(settings.projectCwd, policyPath) || policyPath;
  let exit: number = EXIT.OK;
  await StreamReport.start(
    { configuration, stdout: this.context.stdout, json: this.json, includeFooter: false },
    async (report) => {
      const error = (text: string) => {
        report.reportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${text}`);
        exit = EXIT.USAGE;
      };
      if (existsSync(policyPath) && !this.force) {
        return error(`${display} already exists; pass --force to overwrite it`);
      }
      const trustRoots: Record<string, string> = {};
      for (const spec of this.trustedRoots) {
        const eq = spec.indexOf('=');
        const name = spec.slice(0, eq);
        const file = spec.slice(eq + 1);
        if (eq <= 0 || !file) return error(`--trusted-root expects name=path, got "${spec}"`);
        const abs = resolve(npath.fromPortablePath(this.context.cwd), file);
        if (!existsSync(abs)) return error(`--trusted-root ${name}: ${abs} does not exist`);
        const rel = relative(resolve(policyPath, '..'), abs);
        trustRoots[name] = isAbsolute(rel) ? abs : rel;
      }

      // Survey with a policy that judges nothing and trusts every given root, to see what is there.
      const survey = {
        version: 1,
        mode: 'warn',
        ...(Object.keys(trustRoots).length
          ? { trustRoots: Object.fromEntries(Object.entries(trustRoots).map(([n, f]) => [n, { file: f }])) }
          : {}),
        defaults: {
          require: 'none',
          trust: ['public-good', ...Object.keys(trustRoots)],
          continuity: false,
          sources: ['npm', 'git', 'http', 'file', 'link', 'portal', 'exec'],
        },
      };
      const ctx = await openEngine(configuration, report, {
        policy: { text: stringify(survey), path: policyPath },
      });
      if (!ctx) {
        exit = EXIT.USAGE;
        return;
      }
      try {
        const checks = await lockfileChecks(project, cache, {
          mode: 'lockfile',
          digests: ctx.archiveDigests,
        });
        const outcomes = await report.startTimerPromise(`Tollgate: surveying ${checks.length} packages`, () =>
          runChecks(ctx, checks),
        );
        const decisions = outcomes.map((o) => o.decision);
        const defaultRegistry = normalized(npmConfigUtils.getDefaultRegistry({ configuration }));
        const privateScopes: Record<string, string> = {};
        // A scope the project maps explicitly (npmScopes) is one it considers its own.
        for (const scope of configuration.get('npmScopes').keys()) {
          privateScopes[scope] = normalized(npmConfigUtils.getScopeRegistry(scope, { configuration }));
        }
        const schemaFile = join(dirname(policyPath), SCHEMA_FILE);
        const { yaml, choices } = buildStarterPolicy({
          decisions,
          trustRoots,
          privateScopes,
          internal: this.internal,
          defaultRegistry,
          mode: this.mode as 'enforce' | 'warn',
          schemaPath: relative(dirname(policyPath), schemaFile),
        });
        const check = loadPolicy(yaml, display);
        if (!check.ok) {
          return error(
            `the generated policy does not validate (a bug; nothing was written): ${check.errors.map((e) => e.message).join('; ')}`,
          );
        }
        writeFileSync(policyPath, yaml);
        writeSchema(schemaFile);
        for (const c of choices) {
          report.reportInfo(messageName(TollgateMessage.INFO), `${c.what} — ${c.why}`);
          report.reportJson({ type: 'tollgate-init-choice', ...c });
        }
        const configured = configuration.get('tollgatePolicyPath') !== null;
        report.reportInfo(
          messageName(TollgateMessage.INFO),
          `wrote ${display} (${choices.length - 1} choices) and its JSON Schema for editors (${relative(settings.projectCwd, schemaFile)}); review it${
            configured ? '' : `, run \`yarn config set tollgatePolicyPath ${display}\``
          } and commit it`,
        );
      } finally {
        await ctx.close();
      }
    },
  );
  return exit;
}
