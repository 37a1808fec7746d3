// Standard base64 with padding and nothing else: Buffer.from(x, 'base64') silently skips junk,
// which would let malformed input through as some other value.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isStrictBase64(value: unknown, maxLength: number): value is string {
  return (
    typeof value === 'string' && value.length > 0 && value.length <= maxLength && STRICT_BASE64.test(value)
  );
}
