import { readFileSync } from 'node:fs';
import type { Configuration, Hooks, httpUtils } from '@yarnpkg/core';
import { ReportError } from '@yarnpkg/core';
import {
  allowedRegistries,
  formatLocation,
  isRegistryAllowed,
  loadPolicy,
  type Policy,
} from '../../../policy';
import { configuredRegistries, parseRegistryRequest } from '../engine/registries';
import { messageName, TollgateMessage } from '../messages';
import { processState } from '../process-state';
import { readSettings } from '../settings';

type WrapNetworkRequestInfo = Parameters<NonNullable<Hooks['wrapNetworkRequest']>>[1];

const policies = new WeakMap<Configuration, Policy | null>();

/** The policy as the network layer sees it; null when it cannot be read (the gate then fails closed). */
function policyFor(configuration: Configuration): Policy | null {
  if (policies.has(configuration)) return policies.get(configuration)!;
  let policy: Policy | null = null;
  const settings = readSettings(configuration);
  if (settings.policyPath) {
    try {
      const loaded = loadPolicy(readFileSync(settings.policyPath, 'utf8'), settings.policyPath);
      if (loaded.ok) policy = loaded.policy;
    } catch {
      policy = null;
    }
  }
  policies.set(configuration, policy);
  return policy;
}

function bindingMode(policy: Policy, ruleIndex: number, configuration: Configuration) {
  return configuration.get('tollgateMode') ?? policy.rules[ruleIndex]?.mode ?? policy.mode;
}

/**
 * Network layer of the gate. Refuses, before a single byte is downloaded, a packument or tarball request
 * for a name the policy binds to other registries (dependency confusion), and keeps the exact bytes of
 * every tarball Yarn downloads so that the gate can check them against the registry's integrity.
 */
export async function guardNetworkRequest(
  executor: () => Promise<httpUtils.Response>,
  extra: WrapNetworkRequestInfo,
): Promise<() => Promise<httpUtils.Response>> {
  const configuration = extra.configuration;
  if (!configuration || (extra.method && extra.method !== 'GET')) return executor;
  const request = parseRegistryRequest(extra.target.toString(), configuredRegistries(configuration));
  if (!request) return executor;

  const policy = policyFor(configuration);
  const binding = policy ? allowedRegistries(policy, request.name) : undefined;
  if (policy && binding && !isRegistryAllowed(binding, request.registry)) {
    if (bindingMode(policy, binding.rule.index, configuration) === 'enforce') {
      return async () => {
        throw new ReportError(
          messageName(TollgateMessage.REGISTRY_BINDING),
          `Tollgate: dependency confusion blocked: ${request.name} may only come from ${binding.registries.join(', ')} (rule ${binding.rule.id}, ${formatLocation(binding.rule.location)}), but Yarn asked ${request.registry} for it. Nothing was downloaded. ${
            request.name.startsWith('@')
              ? `Map the scope to its registry in .yarnrc.yml (npmScopes: ${request.name.slice(1, request.name.indexOf('/'))}: npmRegistryServer)`
              : 'Install it through the registry the policy names (npmRegistryServer in .yarnrc.yml)'
          }, or fix the dependency if this name is not yours.`,
        );
      };
    }
  }

  if (request.kind !== 'tarball' || request.version === null) return executor;
  const { registry, name, version } = request;
  return async () => {
    const response = await executor();
    if (Buffer.isBuffer(response.body))
      processState().captures.record(registry, name, version, response.body);
    return response;
  };
}
