import { GraphQLError } from 'graphql';
import { CursorCodec } from './cursors';
import { maskUnexpectedErrors, pageSize, toPage } from './graphql-util';
import { createLogger } from './logging';

describe('cursor paging', () => {
  const cursors = new CursorCodec('a-test-secret-of-at-least-32-characters', 'test:Query.things');

  it('bounds page sizes between 1 and 100', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(100)).toBe(100);
    expect(() => pageSize(0)).toThrow(/between 1 and 100/);
    expect(() => pageSize(101)).toThrow(/between 1 and 100/);
  });

  it('uses the extra row only to say there is a next page', () => {
    const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const page = toPage(rows, 2, (r) => r.id, cursors);
    expect(page.edges.map((e) => [e.node.id, cursors.decode(e.cursor)])).toEqual([['a', 'a'], ['b', 'b']]);
    expect(page.pageInfo).toEqual({ hasNextPage: true, endCursor: cursors.encode('b') });
    expect(toPage(rows, 3, (r) => r.id, cursors).pageInfo.hasNextPage).toBe(false);
    expect(toPage([], 3, (r: { id: string }) => r.id, cursors).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });
});

describe('masking unexpected errors', () => {
  const mask = maskUnexpectedErrors(createLogger('test', 'silent'));
  const internal = { message: 'connect ECONNREFUSED 10.0.0.7:5432', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  const masked = { message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };

  it('shows an error raised on purpose, with or without a code', () => {
    const coded = new GraphQLError('first must be between 1 and 100', { extensions: { code: 'BAD_USER_INPUT' } });
    expect(mask({ message: coded.message, extensions: { code: 'BAD_USER_INPUT' } }, coded).message).toBe('first must be between 1 and 100');
    const plain = new GraphQLError('order not found');
    expect(mask({ message: 'order not found', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, plain).message).toBe('order not found');
  });

  it('hides a plain Error, and one that Apollo Server wrapped in a GraphQLError (thrown in a plugin)', () => {
    const bug = new Error('connect ECONNREFUSED 10.0.0.7:5432');
    expect(mask(internal, bug)).toEqual(masked);
    const wrapped = new GraphQLError(bug.message, { originalError: bug });
    expect(mask(internal, wrapped)).toEqual(masked);
  });
});
