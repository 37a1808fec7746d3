import { type Configuration, ReportError } from '@yarnpkg/core';
import type { PolicyView } from '../engine/context';
import { underlyingConfiguration } from '../engine/fetching';
import { ConfigurationProblem, type LoadedPolicy, loadConfiguredPolicy } from '../engine/policy-load';
import { messageName, TollgateMessage } from '../messages';
import { processState } from '../process-state';
import { readSettings } from '../settings';

export function reportConfigurationProblem(problem: ConfigurationProblem): never {
  const details = problem.details.length ? `\n${problem.details.join('\n')}` : '';
  throw new ReportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${problem.message}${details}`);
}

/** tollgateMode: off, said by whoever runs the command: nothing is checked (and the gate says so). */
export function gateIsOff(configuration: Configuration): boolean {
  return configuration.get('tollgateMode') === 'off';
}

/**
 * The policy as every part of the gate sees it, loaded and validated once per configuration, before
 * Yarn resolves or fetches anything. A missing or invalid policy throws, so nothing is downloaded,
 * cloned or run on behalf of a project whose policy cannot be read.
 */
export function gatePolicy(configuration: Configuration): LoadedPolicy {
  configuration = underlyingConfiguration(configuration);
  const cache = processState().policies;
  let entry = cache.get(configuration);
  if (!entry) {
    try {
      entry = { loaded: loadConfiguredPolicy(readSettings(configuration)) };
    } catch (err) {
      if (!(err instanceof ConfigurationProblem)) throw err;
      entry = { problem: err };
    }
    cache.set(configuration, entry);
  }
  if ('problem' in entry) reportConfigurationProblem(entry.problem);
  return entry.loaded;
}

export function policyView(configuration: Configuration, now = new Date()): PolicyView {
  return {
    configuration,
    policy: gatePolicy(configuration).policy,
    now,
    modeOverride: readSettings(configuration).modeOverride,
  };
}
