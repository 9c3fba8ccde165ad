// Small order statistics. Percentiles use the nearest-rank definition on a sorted copy, so p99 of
// 100 samples is the 99th smallest, never an interpolated value that no message experienced.

/** Sorted Float64Array copy of the samples (accepts arrays and typed arrays, or a list of them). */
export function sorted(...chunks) {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Float64Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out.sort();
}

/** Nearest-rank percentile `p` (0-100) of already sorted samples; NaN when there are none. */
export function percentile(sortedSamples, p) {
  if (sortedSamples.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sortedSamples.length);
  return sortedSamples[Math.min(sortedSamples.length, Math.max(1, rank)) - 1];
}

/** Median of a list of numbers (mean of the middle two for an even count). */
export function median(values) {
  const s = sorted(values.filter((v) => Number.isFinite(v)));
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
