// Durations in the configuration and on the command line: <n>ms, <n>s, <n>m or <n>h.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export function parseDurationMs(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,6})(ms|s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
