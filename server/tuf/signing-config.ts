// signing_config.v0.2.json (Sigstore protobuf-specs SigningConfig): which CA, OIDC issuer, log and
// timestamp authority a client signs with, each with its API version and validity. Published as a TUF
// target beside trusted_root.json, as the public-good instance does.
export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

export interface SigningConfigInput {
  baseUrl: string;
  /** the dev issuer's URL, when it is served */
  oidcUrl: string | null;
  /** since when the services are valid: the instance's creation */
  start: Date;
  /** the RFC 3161 endpoint, when the instance runs a TSA */
  tsaUrl?: string;
  /** Rekor logs: API version and since when (clients pick the newest start) */
  rekor?: Array<{ majorApiVersion: number; start: Date }>;
}

export function signingConfig(input: SigningConfigInput): Record<string, unknown> {
  const validFor = { start: input.start.toISOString() };
  const operator = new URL(input.baseUrl).host;
  const service = (url: string, majorApiVersion: number) => ({ url, majorApiVersion, validFor, operator });
  return {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [service(input.baseUrl, 1)],
    oidcUrls: input.oidcUrl ? [service(input.oidcUrl, 1)] : [],
    rekorTlogUrls: (input.rekor ?? [{ majorApiVersion: 1, start: input.start }]).map((r) => ({
      ...service(input.baseUrl, r.majorApiVersion),
      validFor: { start: r.start.toISOString() },
    })),
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: input.tsaUrl ? [service(input.tsaUrl, 1)] : [],
    tsaConfig: { selector: 'ANY' },
  };
}
