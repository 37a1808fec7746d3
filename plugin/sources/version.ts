import pkg from '../../package.json';

export const TOLLGATE_VERSION: string = pkg.version;

/**
 * Where the documentation lives, for links in machine outputs (SARIF `helpUri`): the repository's
 * policy reference. Change it in one place when the project moves.
 */
export const TOLLGATE_REFERENCE_URL =
  'https://github.com/tollgate-dev/tollgate/blob/main/policy/REFERENCE.md';
