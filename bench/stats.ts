/** min / median / p95 / p99 / max of a list of milliseconds, rounded to 0.1 ms. */
/** `p99` is absent in results recorded before it was measured. */
export type Summary = { n: number; min: number; median: number; p95: number; p99?: number; max: number };

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 10) / 10;
  return { n: sorted.length, min: at(0), median: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}
