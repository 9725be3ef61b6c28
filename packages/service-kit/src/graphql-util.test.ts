import { decodeCursor, encodeCursor, pageSize, toPage } from './graphql-util';

describe('cursor paging', () => {
  it('round-trips a key through an opaque cursor', () => {
    const cursor = encodeCursor('2025-02-01T07:00:00.000Z|ord_1');
    expect(cursor).not.toContain('ord_1');
    expect(decodeCursor(cursor)).toBe('2025-02-01T07:00:00.000Z|ord_1');
    expect(decodeCursor(null)).toBeNull();
  });

  it('rejects a cursor that is not one of ours', () => {
    expect(() => decodeCursor('not a cursor!')).toThrow(/not a valid cursor/);
    expect(() => decodeCursor('')).toThrow(/not a valid cursor/);
  });

  it('bounds page sizes between 1 and 100', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(100)).toBe(100);
    expect(() => pageSize(0)).toThrow(/between 1 and 100/);
    expect(() => pageSize(101)).toThrow(/between 1 and 100/);
  });

  it('uses the extra row only to say there is a next page', () => {
    const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const page = toPage(rows, 2, (r) => r.id);
    expect(page.edges.map((e) => e.node.id)).toEqual(['a', 'b']);
    expect(page.pageInfo).toEqual({ hasNextPage: true, endCursor: encodeCursor('b') });
    expect(toPage(rows, 3, (r) => r.id).pageInfo.hasNextPage).toBe(false);
    expect(toPage([], 3, (r: { id: string }) => r.id).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });
});
