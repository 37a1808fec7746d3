// Which identities a certificate can carry exactly. Email and URI SANs are IA5String (ASCII):
// the encoder keeps only the low byte of each character, so a token for "šlice@example.com" would
// become a certificate for "alice@example.com", and verifiers (which decode SANs as ASCII) would
// accept it as alice. Only ASCII is certified; internationalised domain names only as punycode
// that decodes to a valid Unicode label and encodes back to itself (UTS 46, as URL parsers do).
// Claim extensions are UTF8String and carry any well-formed Unicode text.
import { domainToASCII, domainToUnicode } from 'node:url';

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const NON_ASCII = /[\u0080-\uffff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The punycode form to suggest for a name given in Unicode, when there is one. */
function punycodeHint(name: string): string {
  const ascii = domainToASCII(name);
  return ascii && ascii !== name ? ` (its punycode form is ${ascii})` : '';
}

/** Why `domain` is not an ASCII host name with valid punycode labels, or undefined when it is. */
export function domainProblem(domain: string): string | undefined {
  if (NON_ASCII.test(domain)) {
    return `the domain "${domain}" is not ASCII; give an internationalised domain name in punycode${punycodeHint(domain)}`;
  }
  if (domain.length === 0 || domain.length > 253)
    return `the domain "${domain}" is empty or longer than 253 characters`;
  for (const label of domain.replace(/\.$/, '').split('.')) {
    if (!LDH_LABEL.test(label)) {
      return `the domain "${domain}" has a label "${label}" that is not letters, digits and inner hyphens`;
    }
    if (/^xn--/i.test(label)) {
      const unicode = domainToUnicode(label);
      if (unicode === '' || !NON_ASCII.test(unicode) || domainToASCII(unicode) !== label.toLowerCase()) {
        return `the domain "${domain}" has a label "${label}" that is not valid punycode`;
      }
    }
  }
  return undefined;
}

/** Why `email` cannot be an rfc822Name SAN exactly, or undefined when it can. */
export function emailProblem(email: string): string | undefined {
  if (NON_ASCII.test(email)) {
    const at = email.lastIndexOf('@');
    const local = at < 0 ? email : email.slice(0, at);
    if (NON_ASCII.test(local)) {
      return `the email address "${email}" has a non-ASCII local part, which a certificate (rfc822Name, IA5String) cannot carry`;
    }
  }
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return `"${email}" is not an email address`;
  const local = email.slice(0, at);
  if (local.length > 64 || !DOT_ATOM.test(local)) {
    return `the email address "${email}" has a local part that is not a plain dot-atom of at most 64 ASCII characters`;
  }
  const domain = domainProblem(email.slice(at + 1));
  return domain === undefined ? undefined : `${domain}, in the email address "${email}"`;
}

/** Why `uri` cannot be a URI SAN (or an issuer URL) exactly, or undefined when it can. */
export function uriProblem(uri: string): string | undefined {
  // The host as written (the URL parser would already have converted it to punycode).
  const written = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^:/?#]*)/i.exec(uri)?.[1];
  if (!PRINTABLE_ASCII.test(uri)) {
    return (
      `the URI "${uri}" is not printable ASCII, which a certificate's URI SAN (IA5String) cannot carry; ` +
      `percent-encode its path and give its domain in punycode${written ? punycodeHint(written) : ''}`
    );
  }
  if (written && !written.startsWith('[') && !IPV4.test(written)) {
    const domain = domainProblem(written);
    if (domain !== undefined) return `${domain}, in the URI "${uri}"`;
  }
  try {
    new URL(uri);
  } catch {
    return `"${uri}" is not an absolute URI`;
  }
  return undefined;
}

/** Why a claim value cannot be a UTF8String extension exactly, or undefined when it can. */
export function textProblem(value: string): string | undefined {
  if (LONE_SURROGATE.test(value)) return 'it is not well-formed Unicode (a lone surrogate)';
  if (value.includes('\u0000')) return 'it contains a NUL character';
  return undefined;
}
