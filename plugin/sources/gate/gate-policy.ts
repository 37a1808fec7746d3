import { readFileSync } from 'node:fs';
import { type Configuration, ReportError } from '@yarnpkg/core';
import type { PolicyView } from '../engine/context';
import { underlyingConfiguration } from '../engine/fetching';
import {
  ConfigurationProblem,
  type LoadedPolicy,
  mayExtend,
  openCacheKey,
  PolicySummaries,
  type PolicySummary,
  summarizePolicy,
} from '../engine/policy-load';
import { messageName, TollgateMessage } from '../messages';
import { processState } from '../process-state';
import { readSettings, type TollgateSettings } from '../settings';

export function reportConfigurationProblem(problem: ConfigurationProblem): never {
  const details = problem.details.length ? `\n${problem.details.join('\n')}` : '';
  throw new ReportError(messageName(TollgateMessage.POLICY_ERROR), `Tollgate: ${problem.message}${details}`);
}

/** tollgateMode: off, said by whoever runs the command: nothing is checked (and the gate says so). */
export function gateIsOff(configuration: Configuration): boolean {
  return configuration.get('tollgateMode') === 'off';
}

function summaries(settings: TollgateSettings): PolicySummaries | null {
  try {
    return new PolicySummaries(settings.cacheFolder, openCacheKey(settings));
  } catch (err) {
    if (err instanceof ConfigurationProblem) return null; // the gate reports it after the fetch step
    throw err;
  }
}

/**
 * The policy as every part of the gate sees it, loaded and validated once per configuration, before
 * Yarn resolves or fetches anything. A missing or invalid policy throws, so nothing is downloaded,
 * cloned or run on behalf of a project whose policy cannot be read. The policy compiler is imported
 * only here, on the first call.
 */
export async function gatePolicy(
  configuration: Configuration,
  /** the policy file's text, when the caller has just read it */
  text?: string,
): Promise<LoadedPolicy> {
  configuration = underlyingConfiguration(configuration);
  const cache = processState().policies;
  let entry = cache.get(configuration);
  if (!entry) {
    const { loadConfiguredPolicy } = await import('../engine/configured-policy');
    entry = cache.get(configuration);
    if (!entry) {
      const settings = readSettings(configuration);
      try {
        const given =
          text !== undefined && settings.policyPath ? { text, path: settings.policyPath } : undefined;
        const loaded = loadConfiguredPolicy(settings, given);
        entry = { loaded };
        const store = settings.policyPath ? summaries(settings) : null;
        if (store && !store.recall(settings.policyPath!, loaded.text))
          store.remember(settings.policyPath!, loaded);
      } catch (err) {
        if (!(err instanceof ConfigurationProblem)) throw err;
        entry = { problem: err };
      }
      cache.set(configuration, entry);
    }
  }
  if ('problem' in entry) reportConfigurationProblem(entry.problem);
  return entry.loaded;
}

/**
 * What an install verdict needs of the policy, and the proof that the policy is valid: remembered for
 * the exact text of a policy this machine's Tollgate validated before (and that extends nothing), so a
 * warm install compiles no policy; otherwise the policy is loaded in full (gatePolicy), its bases named
 * by URL fetched first (the load reads them synchronously). Throws, as gatePolicy does, for a policy
 * that cannot be read or is invalid.
 */
export async function gatePolicySummary(configuration: Configuration): Promise<PolicySummary> {
  configuration = underlyingConfiguration(configuration);
  const state = processState();
  const known = state.policySummaries.get(configuration);
  if (known) return known;
  const settings = readSettings(configuration);
  let text: string | undefined;
  if (settings.policyPath) {
    try {
      text = readFileSync(settings.policyPath, 'utf8');
    } catch {} // the load reports it
  }
  let summary: PolicySummary | null = null;
  if (text !== undefined && mayExtend(text)) {
    const { prefetchPolicyBases } = await import('../engine/policy-bases');
    await prefetchPolicyBases(settings, text);
  } else if (text !== undefined && !state.policies.has(configuration)) {
    summary = summaries(settings)?.recall(settings.policyPath!, text) ?? null;
  }
  if (!summary) {
    const loaded = await gatePolicy(configuration, text);
    summary = summarizePolicy(loaded.policy, settings.policyPath ?? settings.projectCwd);
  }
  state.policySummaries.set(configuration, summary);
  return summary;
}

export async function policyView(configuration: Configuration, now = new Date()): Promise<PolicyView> {
  return {
    configuration,
    policy: (await gatePolicy(configuration)).policy,
    now,
    modeOverride: readSettings(configuration).modeOverride,
  };
}
