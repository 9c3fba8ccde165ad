/**
 * Token buckets, pure arithmetic on a caller-supplied clock. A bucket holds `burst` tokens and
 * refills at `perSecond`; taking from an empty bucket fails without side effects.
 */
export interface Bucket {
  tokens: number;
  lastMs: number;
}

export interface BucketSpec {
  readonly burst: number;
  readonly perSecond: number;
}

export function newBucket(spec: BucketSpec, nowMs: number): Bucket {
  return { tokens: spec.burst, lastMs: nowMs };
}

/** Take one token; returns false (and takes nothing) when the bucket is empty. */
export function take(bucket: Bucket, spec: BucketSpec, nowMs: number): boolean {
  const elapsedMs = nowMs - bucket.lastMs;
  if (elapsedMs > 0) {
    bucket.tokens = Math.min(spec.burst, bucket.tokens + (elapsedMs * spec.perSecond) / 1000);
    bucket.lastMs = nowMs;
  }
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}
