import type { Hooks, httpUtils } from '@yarnpkg/core';
import { ReportError, structUtils } from '@yarnpkg/core';
import { formatLocation } from '../../../policy/diagnostics';
import type { Policy } from '../../../policy/model';
import { allowedRegistries, isRegistryAllowed } from '../../../policy/registry-binding';
import { classifyLocator } from '../engine/locators';
import { ConfigurationProblem } from '../engine/policy-load';
import { configuredRegistries, parseRegistryRequest } from '../engine/registries';
import { messageName, TollgateMessage } from '../messages';
import { processState } from '../process-state';
import { currentFetch } from './fetch-context';
import { gateIsOff, gatePolicy } from './gate-policy';

type WrapNetworkRequestInfo = Parameters<NonNullable<Hooks['wrapNetworkRequest']>>[1];
type Configuration = NonNullable<WrapNetworkRequestInfo['configuration']>;

/** The policy as the network layer sees it; null when it cannot be read (the gate then fails closed). */
async function policyFor(configuration: Configuration): Promise<Policy | null> {
  try {
    return (await gatePolicy(configuration)).policy;
  } catch (err) {
    if (err instanceof ReportError || err instanceof ConfigurationProblem) return null;
    throw err;
  }
}

function bindingMode(policy: Policy, ruleIndex: number, configuration: Configuration) {
  return configuration.get('tollgateMode') ?? policy.rules[ruleIndex]?.mode ?? policy.mode;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function refuse(message: string): () => Promise<httpUtils.Response> {
  return async () => {
    throw new ReportError(messageName(TollgateMessage.REGISTRY_BINDING), message);
  };
}

/**
 * Network layer of the gate. Refuses, before a single byte is downloaded, a packument or tarball request
 * for a name the policy binds to other registries (dependency confusion), and a tarball Yarn would fetch
 * for a bound package from another origin (an `__archiveUrl` in yarn.lock). Keeps the exact bytes of
 * every tarball Yarn downloads while fetching a locator, for that locator, so that the gate can check
 * them against the registry's integrity.
 */
export async function guardNetworkRequest(
  executor: () => Promise<httpUtils.Response>,
  extra: WrapNetworkRequestInfo,
): Promise<() => Promise<httpUtils.Response>> {
  const configuration = extra.configuration;
  if (!configuration || (extra.method && extra.method !== 'GET') || gateIsOff(configuration)) return executor;
  const target = extra.target.toString();
  const policy = await policyFor(configuration);
  const request = parseRegistryRequest(target, configuredRegistries(configuration));
  if (policy && request) {
    const binding = allowedRegistries(policy, request.name);
    if (binding && !isRegistryAllowed(binding, request.registry)) {
      if (bindingMode(policy, binding.rule.index, configuration) === 'enforce') {
        return refuse(
          `Tollgate: dependency confusion blocked: ${request.name} may only come from ${binding.registries.join(', ')} (rule ${binding.rule.id}, ${formatLocation(binding.rule.location)}), but Yarn asked ${request.registry} for it. Nothing was downloaded. ${
            request.name.startsWith('@')
              ? `Map the scope to its registry in .yarnrc.yml (npmScopes: ${request.name.slice(1, request.name.indexOf('/'))}: npmRegistryServer)`
              : 'Install it through the registry the policy names (npmRegistryServer in .yarnrc.yml)'
          }, or fix the dependency if this name is not yours.`,
        );
      }
    }
  }

  const fetching = currentFetch();
  if (!fetching) return executor;
  const classified = classifyLocator(fetching.locator);
  if (classified.kind !== 'npm') return executor;
  if (policy) {
    const binding = allowedRegistries(policy, classified.name);
    const origin = originOf(target);
    if (
      binding &&
      !binding.registries.some((r) => originOf(r) === origin) &&
      bindingMode(policy, binding.rule.index, configuration) === 'enforce'
    ) {
      return refuse(
        `Tollgate: ${classified.name} may only come from ${binding.registries.join(', ')} (rule ${binding.rule.id}, ${formatLocation(binding.rule.location)}), but yarn.lock has Yarn fetch its tarball from ${origin ?? target}. Nothing was downloaded. Restore yarn.lock, or fix the registry's tarball URLs.`,
      );
    }
  }
  const locator = fetching.locator;
  return async () => {
    const response = await executor();
    if (Buffer.isBuffer(response.body))
      processState().captures.record(
        locator.locatorHash,
        structUtils.stringifyLocator(locator),
        target,
        response.body,
      );
    return response;
  };
}
