import { type Configuration, httpUtils } from '@yarnpkg/core';

/**
 * The JSON-over-HTTP the signing flow needs (token issuers, trusted roots, attestation stores). Kept
 * behind an interface so the flow itself has no Yarn in it; the implementation below goes through
 * Yarn's HTTP layer so proxies, CA files, timeouts and `unsafeHttpWhitelist` apply as for any request.
 */
export interface JsonHttp {
  get(url: string, headers?: Record<string, string>): Promise<unknown>;
  send(
    method: 'POST' | 'PUT',
    url: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<unknown>;
}

export function yarnJsonHttp(configuration: Configuration): JsonHttp {
  return {
    get: (url, headers) => httpUtils.get(url, { configuration, headers, jsonResponse: true }),
    send: (method, url, body, headers) =>
      (method === 'PUT' ? httpUtils.put : httpUtils.post)(url, body as httpUtils.Body, {
        configuration,
        headers,
        jsonRequest: true,
        jsonResponse: true,
      }),
  };
}
