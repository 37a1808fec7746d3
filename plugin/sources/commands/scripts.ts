import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate scripts`: every installed package that has a build, who signs it, and whether it runs.
export default class ScriptsCommand extends BaseCommand {
  static override paths = [['tollgate', 'scripts']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'list the packages that have install scripts, who signs them, and whether they may run',
    details: `
      Reads every package yarn.lock installs from the cache (run \`yarn install\` first) and lists those with a build: lifecycle scripts (preinstall, install, postinstall) or a binding.gyp that Yarn builds with node-gyp. For each: the verified identity that signs it, whether the policy's \`scripts\` section lets its build run and why (the allowance, or the default), and whether Yarn itself would run it (\`enableScripts\`, \`dependenciesMeta\`). Approve one with \`yarn tollgate scripts approve\`.

      Exit codes: 0 no build Yarn would run is withheld in enforce mode, 1 one is (the install fails for it), 2 usage or configuration error.
    `,
    examples: [
      ['List the builds', 'yarn tollgate scripts'],
      ['Machine-readable', 'yarn tollgate scripts --json'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/scripts');
    return execute.call(this);
  }
}
