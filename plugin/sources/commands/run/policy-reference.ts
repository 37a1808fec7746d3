import { POLICY_REFERENCE } from '../../generated/policy-reference';
import type PolicyReferenceCommand from '../policy-reference';

export async function execute(this: PolicyReferenceCommand) {
  this.context.stdout.write(POLICY_REFERENCE);
  return 0;
}
