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

/** Student's t at 97.5 % (a two-sided 95 % interval) for 1–30 degrees of freedom, then at 40, 60 and 120. */
const T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** The t multiplier of a 95 % interval; between the table's rows, the row below (the wider interval). */
export function tMultiplier(degrees: number): number {
  if (degrees < 1) return Number.NaN;
  if (degrees <= T_975.length) return T_975[degrees - 1] ?? Number.NaN;
  return degrees < 40 ? 2.042 : degrees < 60 ? 2.021 : degrees < 120 ? 2.0 : 1.98;
}

/**
 * The mean of `b[i] − a[i]` over the pairs, and the half-width of its 95 % confidence interval (Student's t: the
 * quick run compares as few as 5 pairs, where 1.96 standard errors would claim a third too much): how far apart two
 * modes measured in the same rounds are, and how sure that is.
 */
export function pairedDifference(a: number[], b: number[]): { mean: number; halfWidth: number; n: number } {
  const n = Math.min(a.length, b.length);
  const differences = Array.from({ length: n }, (_, index) => (b[index] ?? 0) - (a[index] ?? 0));
  const mean = n === 0 ? 0 : differences.reduce((sum, value) => sum + value, 0) / n;
  const variance = n < 2 ? 0 : differences.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  return { mean, halfWidth: n < 2 ? Number.NaN : tMultiplier(n - 1) * Math.sqrt(variance / n), n };
}
