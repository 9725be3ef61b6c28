import { normaliseLines } from './resolvers';

describe('order lines', () => {
  it('merges repeated products so each is reserved once', () => {
    expect(
      normaliseLines([
        { productId: 'prd_1', quantity: 2 },
        { productId: 'prd_2', quantity: 1 },
        { productId: 'prd_1', quantity: 3 },
      ]),
    ).toEqual([
      { productId: 'prd_1', quantity: 5 },
      { productId: 'prd_2', quantity: 1 },
    ]);
  });

  it('refuses empty orders, too many lines, and quantities outside 1..1000 (also after merging)', () => {
    expect(() => normaliseLines([])).toThrow(/between 1 and 50 lines/);
    expect(() => normaliseLines(Array.from({ length: 51 }, (_, i) => ({ productId: `p${i}`, quantity: 1 })))).toThrow(/50 lines/);
    expect(() => normaliseLines([{ productId: 'p', quantity: 0 }])).toThrow(/quantity/);
    expect(() => normaliseLines([{ productId: 'p', quantity: 1.5 }])).toThrow(/quantity/);
    expect(() => normaliseLines([{ productId: 'p', quantity: 600 }, { productId: 'p', quantity: 600 }])).toThrow(/quantity/);
  });
});
