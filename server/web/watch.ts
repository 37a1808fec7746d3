// "Watch this identity": the identity monitor's configuration (monitor/README.md) for one signer
// identity of this log, written with the YAML library so that attacker-chosen text (a SAN, an
// issuer) can only ever be a quoted scalar. The monitor reads it as is; the trusted root it names
// is this server's, which the user downloads beside it and should check out of band: the monitor
// never fetches trust from the log it watches.
import { stringify } from 'yaml';
import { badRequest } from '../errors';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function nameFor(text: string, fallback: string): string {
  const cleaned = text
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64)
    .replace(/[^A-Za-z0-9]+$/, '');
  return NAME.test(cleaned) ? cleaned : fallback;
}

export function watchConfig(options: {
  serverUrl: string;
  subject: string;
  issuer: string;
  /** Log index of the first entry of the identity seen: the monitor starts there. */
  start?: number;
}): string {
  const { serverUrl, subject, issuer } = options;
  if (!/^https?:\/\/\S+$/.test(issuer)) throw badRequest('"issuer" must be an http(s) URL');
  const host = new URL(serverUrl).host;
  const identity: Record<string, unknown> = { name: nameFor(subject, 'identity') };
  if (/^[^@\s/]+@[^@\s/]+$/.test(subject)) identity['email'] = subject;
  else identity['subject'] = { exact: subject };
  identity['issuer'] = issuer;
  const document = {
    version: 1,
    logs: [
      {
        name: nameFor(`tollgate-${host}`, 'tollgate-log'),
        url: serverUrl,
        trustedRoot: 'trusted_root.json',
        start: options.start ?? 0,
      },
    ],
    identities: [identity],
  };
  return (
    '# .tollgate-monitor.yml: watch every signing by this identity in this log (tollgate-monitor --once).\n' +
    `# trusted_root.json: save ${serverUrl}/trusted_root.json next to this file, and compare its log key\n` +
    '# with one you got from the log operator: the monitor never fetches trust from the log it watches.\n' +
    '# Add `packages:` with your releases to tell expected signings from unexpected ones (monitor/README.md).\n' +
    stringify(document, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 })
  );
}
