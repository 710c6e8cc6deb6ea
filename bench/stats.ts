/** min / median / p95 / p99 / max of a list of milliseconds, rounded to 0.1 ms. */
/** `p99` is absent in results recorded before it was measured. */
export type Summary = { n: number; min: number; median: number; p95: number; p99?: number; max: number };

/** The value at quantile `q` of an ascending list (the nearest rank below), 0 for an empty one. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => Math.round(quantile(sorted, q) * 10) / 10;
  return { n: sorted.length, min: at(0), median: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

/**
 * The mean of `b[i] − a[i]` over the pairs, and the half-width of its 95 % confidence interval (normal approximation,
 * 1.96 standard errors): how far apart two modes measured in the same rounds are, and how sure that is.
 */
export function pairedDifference(a: number[], b: number[]): { mean: number; halfWidth: number; n: number } {
  const n = Math.min(a.length, b.length);
  const differences = Array.from({ length: n }, (_, index) => (b[index] ?? 0) - (a[index] ?? 0));
  const mean = n === 0 ? 0 : differences.reduce((sum, value) => sum + value, 0) / n;
  const variance = n < 2 ? 0 : differences.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  return { mean, halfWidth: n < 2 ? Number.NaN : 1.96 * Math.sqrt(variance / n), n };
}
