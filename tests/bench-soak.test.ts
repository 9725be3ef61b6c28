/**
 * npm run bench:soak's verdict (bench/soak-stats.ts): the slope of memory over the last 80% of the run, in MB
 * a minute, and "flat" only below the stated bound.
 */
import { lastShare, slopePerMinute, soakVerdict, type MemorySample } from '../bench/soak-stats';

/** Samples every 10 s for `minutes`, memory from `rssAt(seconds)`, heap a fixed 80 MB. */
const run = (minutes: number, rssAt: (seconds: number) => number): MemorySample[] =>
  Array.from({ length: (minutes * 60) / 10 }, (_, i) => ({ seconds: (i + 1) * 10, rssMb: rssAt((i + 1) * 10), heapUsedMb: 80 }));

describe('the soak verdict', () => {
  it('a line growing 3 MB a minute has a slope of exactly 3 MB/min', () => {
    expect(slopePerMinute([0, 60, 120, 180].map((seconds) => ({ seconds, value: 200 + seconds / 20 })))).toBeCloseTo(3, 10);
  });

  it('a single sample, or samples all at one time, have no slope (NaN), and so are never called flat', () => {
    expect(slopePerMinute([{ seconds: 10, value: 5 }])).toBeNaN();
    expect(soakVerdict([{ seconds: 600, rssMb: 200, heapUsedMb: 80 }], 600)).toEqual({ rssSlope: NaN, heapSlope: NaN, flat: false });
  });

  it('keeps the samples from 20% of the run onwards: of a 10-minute run, those at 120 s and later', () => {
    const kept = lastShare(run(10, () => 200), 600, 0.8);
    expect(kept.map((s) => s.seconds)).toEqual(Array.from({ length: 49 }, (_, i) => 120 + i * 10));
  });

  it('a warm-up climb of 100 MB in the first two minutes, then a level 250 MB, is flat', () => {
    const verdict = soakVerdict(
      run(10, (s) => (s < 120 ? 150 + (s / 120) * 100 : 250)),
      600,
    );
    expect(verdict).toEqual({ rssSlope: 0, heapSlope: 0, flat: true });
  });

  it('sawtooth garbage collection around a level (±20 MB) is flat; 1.5 MB a minute under it is growing', () => {
    const sawtooth = (s: number) => 250 + ((s / 10) % 2 === 0 ? 20 : -20);
    expect(soakVerdict(run(10, sawtooth), 600).flat).toBe(true);
    const leaking = soakVerdict(run(10, (s) => sawtooth(s) + (s / 60) * 1.5), 600);
    expect(leaking.rssSlope).toBeCloseTo(1.5, 0);
    expect(leaking.flat).toBe(false);
  });
});
