import { BaseCommand } from '@yarnpkg/cli';
import { Option } from 'clipanion';

// `yarn tollgate doctor`: what silently weakens protection in this project and on this machine — Yarn
// settings, environment overrides, the plugin bundle, trust roots, exceptions and pins — each with its
// own message code and a one-line fix. Reads only: the one network use is fetching the URL bases the
// policy extends, as every command does (none offline); TUF caches are read, never refreshed.
export default class DoctorCommand extends BaseCommand {
  static override paths = [['tollgate', 'doctor']];

  static override usage = BaseCommand.Usage({
    category: 'Tollgate commands',
    description: 'find what silently weakens protection, each with its fix',
    details: `
      Checks, without installing or changing the project (the only network use is fetching URL bases the policy extends, as every command does; none with tollgateOffline; TUF caches are read, never refreshed): \`enableScripts: true\` while the policy lets every build run (YN9151); an age gate of 0, by default or for a scope or registry (YN9152); \`approvedGitRepositories\` that approve any repository (YN9153); \`checksumBehavior\` other than throw (YN9154); \`tollgateMode: warn|off\` in a settings file (YN9155) or \`YARN_TOLLGATE_MODE\` in the environment (YN9156); a plugin bundle that is missing, has no recorded checksum or does not match the sha512 \`.yarnrc.yml\` records — Yarn never re-checks a local plugin (YN9157); trust roots whose certificate authorities or log keys have all expired or expire within 30 days (YN9158); TUF roots whose last verified metadata has expired (YN9159); exceptions that expired or expire within 14 days (YN9160); pins of packages yarn.lock no longer installs (YN9161).

      Exit codes: 0 no finding (warnings — something expiring soon, a left-over pin — allowed), 1 at least one finding that weakens protection now, 2 configuration error (no or an invalid policy, pins file, trust root or yarn.lock; the settings and the plugin bundle are still checked and reported).
    `,
    examples: [
      ['Check this project and machine', 'yarn tollgate doctor'],
      ['Machine-readable, one finding per line', 'yarn tollgate doctor --json'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'Format the output as an NDJSON stream' });

  async execute(): Promise<number | void> {
    const { execute } = await import('./run/doctor');
    return execute.call(this);
  }
}
