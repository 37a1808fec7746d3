// JSON from untrusted clients, with its shape bounded before it is parsed. V8's JSON.parse
// accepts any nesting, but what runs on the result afterwards (canonicalisation, bundle parsing,
// JSON.stringify) recurses and overflows the stack on deep documents; and a body of hundreds of
// thousands of tiny values costs hundreds of milliseconds to parse and walk, during which no other
// client is served. A linear scan of the text rejects both before any of that work starts.
import { ServerError } from './errors';

export interface JsonLimits {
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
  /** Most structural tokens (`[`, `{`, `,`, `:`), which bound the number of values. */
  maxTokens: number;
}

/** Request bodies: every endpoint's documents are a few levels deep with a few dozen values. */
export const REQUEST_JSON: JsonLimits = { maxDepth: 32, maxTokens: 20_000 };
/** Documents carried inside entries and bundles (DSSE envelopes, in-toto statements). */
export const EMBEDDED_JSON: JsonLimits = { maxDepth: 64, maxTokens: 200_000 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Throws a 400 naming `what` when the text nests or branches beyond the limits. */
export function assertJsonShape(text: string, limits: JsonLimits, what: string): void {
  let depth = 0;
  let tokens = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: find its closing quote, stepping over escapes.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
      continue;
    }
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limits.maxDepth) {
        throw new ServerError(
          400,
          'JSON_TOO_DEEP',
          `${what} nests arrays and objects more than ${limits.maxDepth} levels deep`,
        );
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
      continue;
    } else if (c !== COMMA && c !== COLON) {
      continue;
    }
    if (++tokens > limits.maxTokens) {
      throw new ServerError(
        400,
        'JSON_TOO_COMPLEX',
        `${what} holds more than ${limits.maxTokens} JSON values; no valid document is that large`,
      );
    }
  }
}

/** JSON.parse after assertJsonShape; a syntax error is a 400 with `invalid` as its message. */
export function parseBoundedJson(
  text: string,
  limits: JsonLimits,
  what: string,
  invalid: () => ServerError,
): unknown {
  assertJsonShape(text, limits, what);
  try {
    return JSON.parse(text);
  } catch {
    throw invalid();
  }
}
