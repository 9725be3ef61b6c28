/** One memory sample of the soak: seconds since the load began and the gateway's memory then, in MB. */
export interface MemorySample {
  seconds: number;
  rssMb: number;
  heapUsedMb: number;
}

/** Least-squares slope of `value` over time, in units per minute; NaN with fewer than two distinct times. */
export function slopePerMinute(points: { seconds: number; value: number }[]): number {
  const n = points.length;
  const meanT = points.reduce((sum, p) => sum + p.seconds, 0) / n;
  const meanV = points.reduce((sum, p) => sum + p.value, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    covariance += (p.seconds - meanT) * (p.value - meanV);
    variance += (p.seconds - meanT) ** 2;
  }
  return variance === 0 ? NaN : (covariance / variance) * 60;
}

/**
 * The samples of the last `share` of the run (by time, not count): the first part is warm-up, while the
 * JIT, the plan cache and the caches' first entries settle.
 */
export function lastShare(samples: MemorySample[], durationSeconds: number, share: number): MemorySample[] {
  const from = durationSeconds * (1 - share);
  return samples.filter((s) => s.seconds >= from);
}

/** Growth below this many MB a minute of resident memory is read as flat: 10 MB over the 10-minute soak. */
export const FLAT_RSS_MB_PER_MINUTE = 1;

export interface SoakVerdict {
  rssSlope: number;
  heapSlope: number;
  flat: boolean;
}

/** The slopes of resident memory and used heap over the last 80% of the run, and whether resident memory stayed flat. */
export function soakVerdict(samples: MemorySample[], durationSeconds: number): SoakVerdict {
  const measured = lastShare(samples, durationSeconds, 0.8);
  const rssSlope = slopePerMinute(measured.map((s) => ({ seconds: s.seconds, value: s.rssMb })));
  const heapSlope = slopePerMinute(measured.map((s) => ({ seconds: s.seconds, value: s.heapUsedMb })));
  return { rssSlope, heapSlope, flat: rssSlope < FLAT_RSS_MB_PER_MINUTE };
}
