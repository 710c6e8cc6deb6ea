/** Parses durations written in haproxy's own units (configuration.txt §2.5): us, ms, s, m, h, d; a bare number is ms. */

const UNIT_MS = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
} as const;

const DURATION = /^(\d+(?:\.\d+)?)(us|ms|s|m|h|d)?$/;

/** Milliseconds for `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const unit = (match[2] ?? 'ms') as keyof typeof UNIT_MS;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

/** A short human form: 1500 → "1.5s", 1800000 → "30m". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const units: Array<[string, number]> = [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  for (const [unit, size] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${(ms / 1000).toFixed(1)}s`;
}
