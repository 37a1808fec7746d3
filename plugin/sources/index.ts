import type { Hooks, Plugin } from '@yarnpkg/core';
import ApproveCommand from './commands/approve';
import AuditCommand from './commands/audit';
import DbSignCommand from './commands/db-sign';
import DbStatusCommand from './commands/db-status';
import DbUpdateCommand from './commands/db-update';
import DoctorCommand from './commands/doctor';
import ExplainCommand from './commands/explain';
import InitCommand from './commands/init';
import MonitorCommand from './commands/monitor';
import PolicyCheckCommand from './commands/policy-check';
import PolicyDiffCommand from './commands/policy-diff';
import PolicyReferenceCommand from './commands/policy-reference';
import PolicySchemaCommand from './commands/policy-schema';
import TollgatePublishCommand from './commands/publish';
import ScriptsCommand from './commands/scripts';
import ScriptsApproveCommand from './commands/scripts-approve';
import TollgateSignCommand from './commands/sign';
import TollgateCommand from './commands/tollgate';
import TrustUpdateCommand from './commands/trust-update';
import VerifyReleaseCommand from './commands/verify-release';
import { installGate } from './gate/patch-project';
import { guardScriptExecution } from './gate/script-guard';
import { configuration } from './settings';

installGate();

// The network layer of the gate, loaded by the first request (most commands make none). The import is
// kept: in the bundle each `import()` builds a new namespace object copying every export, ~0.1 ms per
// request that a CI checkout of 1,000 packages paid 1,000 times on Yarn's thread.
let networkGuard: Promise<typeof import('./gate/network-guard')> | undefined;
function loadNetworkGuard() {
  networkGuard ??= import('./gate/network-guard');
  return networkGuard;
}

const hooks: Hooks = {
  wrapNetworkRequest: async (executor, extra) =>
    (await loadNetworkGuard()).guardNetworkRequest(executor, extra),
  wrapScriptExecution: guardScriptExecution,
};

const plugin: Plugin<Hooks> = {
  configuration: configuration as unknown as Plugin['configuration'],
  hooks,
  commands: [
    TollgateCommand,
    AuditCommand,
    ExplainCommand,
    ApproveCommand,
    InitCommand,
    PolicyCheckCommand,
    PolicyDiffCommand,
    PolicyReferenceCommand,
    PolicySchemaCommand,
    TollgateSignCommand,
    TollgatePublishCommand,
    VerifyReleaseCommand,
    MonitorCommand,
    DbUpdateCommand,
    DbStatusCommand,
    DbSignCommand,
    ScriptsCommand,
    ScriptsApproveCommand,
    TrustUpdateCommand,
    DoctorCommand,
  ],
};

export default plugin;
