// The identity a verified OIDC token stands for, as the CA needs it: the subject alternative
// name, the proof-of-possession challenge and the claims mapped to Fulcio extensions.
import { ServerError } from '../errors';

export interface TokenIdentity {
  issuer: string;
  /** Value the client must sign to prove possession of its key: email if present, else sub. */
  challenge: string;
  san: { type: 'email' | 'uri'; value: string };
  claims: Record<string, unknown>;
}

const invalid = (message: string) => new ServerError(401, 'INVALID_TOKEN', message);

// GitHub Actions tokens carry no server URL; Fulcio's GitHub mapping prefixes this base.
const DEFAULT_CI_SERVER = 'https://github.com';

export function ciServerUrl(claims: Record<string, unknown>): string {
  return typeof claims['server_url'] === 'string' ? claims['server_url'] : DEFAULT_CI_SERVER;
}

function isAbsoluteUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false;
  }
}

/**
 * Mirrors Fulcio's issuer types: an email token (email + email_verified) binds the email; a
 * GitHub-Actions-shaped token (job_workflow_ref) binds the workflow URI; otherwise the subject
 * must itself be a URI and is bound as one.
 */
export function identityFromClaims(issuer: string, claims: Record<string, unknown>): TokenIdentity {
  const sub = claims['sub'];
  if (typeof sub !== 'string' || sub === '') throw invalid('the token has no "sub" claim');
  const email = claims['email'];
  if (email !== undefined) {
    if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) {
      throw invalid('the token\'s "email" claim is not an email address');
    }
    if (claims['email_verified'] !== true) {
      throw invalid('the token\'s email is not verified ("email_verified" must be true)');
    }
    return { issuer, challenge: email, san: { type: 'email', value: email }, claims };
  }
  const workflowRef = claims['job_workflow_ref'];
  if (workflowRef !== undefined) {
    if (typeof workflowRef !== 'string' || workflowRef === '')
      throw invalid('"job_workflow_ref" must be a string');
    return {
      issuer,
      challenge: sub,
      san: { type: 'uri', value: `${ciServerUrl(claims)}/${workflowRef}` },
      claims,
    };
  }
  if (!isAbsoluteUri(sub)) {
    throw invalid(
      'the token carries neither "email" nor "job_workflow_ref", and its "sub" is not a URI; ' +
        'ask the issuer for an email (with email_verified) or a URI subject',
    );
  }
  return { issuer, challenge: sub, san: { type: 'uri', value: sub }, claims };
}
