import { parse } from 'graphql';
import type { CostSchema } from './estimate';
import { RememberedEstimates } from './useDemandControl';

describe('remembered estimates', () => {
  const schema = {} as CostSchema;
  const document = parse('query Q($q: String) { a(q: $q) }');

  it('are keyed by the coerced variables: other values are other estimates, the same values one walk', () => {
    const remembered = new RememberedEstimates();
    let walks = 0;
    const estimate = () => ++walks;
    expect(remembered.get(schema, document, 'Q', { q: 'a' }, estimate)).toBe(1);
    expect(remembered.get(schema, document, 'Q', { q: 'a' }, estimate)).toBe(1);
    expect(remembered.get(schema, document, 'Q', { q: 'b' }, estimate)).toBe(2);
    expect(walks).toBe(2);
  });

  it('never keep a key longer than 4 Ki characters, and forget the oldest past 4 Mi characters of keys, however many requests come', () => {
    const remembered = new RememberedEstimates();
    const big = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 330; i++) remembered.get(schema, document, 'Q', { q: `${i}${big}` }, () => 1);
    expect(remembered.size).toBe(0);
    for (let i = 0; i < 3000; i++) remembered.get(schema, document, 'Q', { q: `${i}${'y'.repeat(3000)}` }, () => 1);
    expect(remembered.size).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(remembered.size).toBeGreaterThan(4 * 1024 * 1024 - 4096);
  });
});
