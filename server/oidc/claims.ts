// The identity a verified OIDC token stands for, as the CA needs it: the subject alternative
// name, the proof-of-possession challenge and, for issuers that define them, the CI claims mapped
// to Fulcio extensions. An identity the certificate cannot carry exactly is refused here, before
// anything is signed (see ca/representable.ts).
import { emailProblem, textProblem, uriProblem } from '../ca/representable';
import { ServerError } from '../errors';

export interface TokenIdentity {
  issuer: string;
  /** Value the client must sign to prove possession of its key: email if present, else sub. */
  challenge: string;
  san: { type: 'email' | 'uri'; value: string };
  /**
   * The token's claims, for the GitHub-Actions-style extensions (.1.9 to .1.22); null when the
   * issuer is not one that defines those claims, so no extension is derived from them.
   */
  ciClaims: Record<string, unknown> | null;
}

const invalid = (message: string) => new ServerError(401, 'INVALID_TOKEN', message);
const notRepresentable = (claim: string, problem: string) =>
  new ServerError(
    400,
    'IDENTITY_NOT_REPRESENTABLE',
    `the token's "${claim}" claim cannot be certified exactly: ${problem}`,
  );

// GitHub Actions tokens carry no server URL; Fulcio's GitHub mapping prefixes this base.
const DEFAULT_CI_SERVER = 'https://github.com';

export function ciServerUrl(claims: Record<string, unknown>): string {
  return typeof claims['server_url'] === 'string' ? claims['server_url'] : DEFAULT_CI_SERVER;
}

/** Claims that become extensions (GitHub Actions names, see ca/extensions.ts). */
export const CI_CLAIMS = [
  'server_url',
  'job_workflow_ref',
  'job_workflow_sha',
  'runner_environment',
  'repository',
  'sha',
  'ref',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'workflow_ref',
  'workflow_sha',
  'event_name',
  'run_id',
  'run_attempt',
  'repository_visibility',
] as const;

function checkCiClaims(claims: Record<string, unknown>): void {
  for (const name of CI_CLAIMS) {
    const value = claims[name];
    if (typeof value !== 'string') continue;
    const problem = textProblem(value);
    if (problem) throw notRepresentable(name, problem);
  }
}

/**
 * Mirrors Fulcio's issuer types: an email token (email + email_verified) binds the email; a
 * GitHub-Actions-shaped token (job_workflow_ref, from an issuer that defines it) binds the
 * workflow URI; otherwise the subject must itself be a URI and is bound as one.
 */
export function identityFromClaims(
  issuer: string,
  claims: Record<string, unknown>,
  options: { ciClaims: boolean },
): TokenIdentity {
  const sub = claims['sub'];
  if (typeof sub !== 'string' || sub === '') throw invalid('the token has no "sub" claim');
  const ciClaims = options.ciClaims ? claims : null;
  if (ciClaims) checkCiClaims(ciClaims);
  const email = claims['email'];
  if (email !== undefined) {
    if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) {
      throw invalid('the token\'s "email" claim is not an email address');
    }
    if (claims['email_verified'] !== true) {
      throw invalid('the token\'s email is not verified ("email_verified" must be true)');
    }
    const problem = emailProblem(email);
    if (problem) throw notRepresentable('email', problem);
    return { issuer, challenge: email, san: { type: 'email', value: email }, ciClaims };
  }
  const workflowRef = claims['job_workflow_ref'];
  if (ciClaims && workflowRef !== undefined) {
    if (typeof workflowRef !== 'string' || workflowRef === '')
      throw invalid('"job_workflow_ref" must be a string');
    const san = `${ciServerUrl(claims)}/${workflowRef}`;
    const problem = uriProblem(san);
    if (problem) throw notRepresentable('job_workflow_ref', problem);
    return { issuer, challenge: sub, san: { type: 'uri', value: san }, ciClaims };
  }
  const subProblem = uriProblem(sub);
  if (subProblem && !/^[a-z][a-z0-9+.-]*:/i.test(sub)) {
    throw invalid(
      `the token carries neither "email" nor${ciClaims ? '' : ' (from an issuer that defines it)'} "job_workflow_ref", ` +
        'and its "sub" is not a URI; ask the issuer for an email (with email_verified) or a URI subject',
    );
  }
  if (subProblem) throw notRepresentable('sub', subProblem);
  return { issuer, challenge: sub, san: { type: 'uri', value: sub }, ciClaims };
}
