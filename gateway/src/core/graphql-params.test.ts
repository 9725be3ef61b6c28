import { paramsFromBody, paramsFromQueryString } from './graphql-params';
import { Refusal } from './plugin';

const refusal = (message: string) => new Refusal(400, 'BAD_REQUEST', message);

describe('reading GraphQL-over-HTTP parameters once', () => {
  it('refuses a request target with a fragment, wherever the # stands', () => {
    for (const target of ['/graphql?query=%7Ba%7D#&query=x', '/graphql#?query=x', '/graphql?query=%7Ba%7D#']) {
      expect(() => paramsFromQueryString(target)).toThrow(refusal('The request target must not contain "#".'));
    }
  });

  it('refuses a parameter given twice, however it is encoded', () => {
    for (const target of ['/graphql?query=a&query=b', '/graphql?query=a&%71uery=b', '/graphql?query=a&query', '/graphql?variables=%7B%7D&variables=%7B%7D']) {
      expect(() => paramsFromQueryString(target)).toThrow(Refusal);
    }
  });

  it('reads GET and POST alike: the same query, operation name and variables', () => {
    const get = paramsFromQueryString(`/graphql?query=${encodeURIComponent('query A($x: Int) { a }')}&operationName=A&variables=${encodeURIComponent('{"x":1}')}&other=1`);
    const post = paramsFromBody({ query: 'query A($x: Int) { a }', operationName: 'A', variables: { x: 1 }, other: 1 });
    expect(get).toEqual({ query: 'query A($x: Int) { a }', operationName: 'A', variables: { x: 1 }, extensions: {} });
    expect(post).toEqual(get);
  });

  it('refuses shapes that another reader could take differently', () => {
    expect(() => paramsFromBody([{ query: '{ a }' }])).toThrow(refusal('Batched operations are not supported: send one operation per request.'));
    expect(() => paramsFromBody({ query: ['{ a }'] })).toThrow(refusal('"query" must be a string.'));
    expect(() => paramsFromBody({ query: '{ a }', variables: [1] })).toThrow(refusal('"variables" must be a JSON object.'));
    expect(() => paramsFromBody({ query: '{ a }', operationName: 1 })).toThrow(refusal('"operationName" must be a string or null.'));
    expect(() => paramsFromQueryString('/graphql?query=%zz')).toThrow(refusal('The query string is not valid percent-encoding.'));
    expect(() => paramsFromQueryString('/graphql?query=a&variables=%7B')).toThrow(refusal('"variables" is not valid JSON.'));
  });
});
