/** min / median / p95 / max of a list of milliseconds, rounded to 0.1 ms. */
export type Summary = { n: number; min: number; median: number; p95: number; max: number };

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 10) / 10;
  return { n: sorted.length, min: at(0), median: at(0.5), p95: at(0.95), max: at(1) };
}
