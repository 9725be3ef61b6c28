import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { readSupergraphFile } from './supergraph';

const SUPERGRAPH = composeServices([
  {
    name: 'greetings',
    url: 'http://greetings.invalid/graphql',
    typeDefs: parse('extend schema @link(url: "https://specs.apollo.dev/federation/v2.9") type Query { hello: String }'),
  },
]).supergraphSdl!;

const fileWith = (content: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'supergraph.graphql');
  writeFileSync(path, content);
  return path;
};

describe('reading the supergraph file', () => {
  it('hashes the file as sha256sum does and applies URL overrides by subgraph name', () => {
    const path = fileWith(SUPERGRAPH);
    const supergraph = readSupergraphFile(path, { greetings: 'http://127.0.0.1:4100/graphql' });
    expect(supergraph.hash).toBe(createHash('sha256').update(SUPERGRAPH).digest('hex'));
    expect(supergraph.subgraphs).toEqual([{ name: 'greetings', url: 'http://127.0.0.1:4100/graphql' }]);
    expect(readSupergraphFile(path, {}).subgraphs).toEqual([{ name: 'greetings', url: 'http://greetings.invalid/graphql' }]);
  });

  it.each([
    ['a missing file', () => '/nonexistent/supergraph.graphql', /^supergraphPath: cannot read \/nonexistent\/supergraph\.graphql: ENOENT/],
    ['a file that does not parse', () => fileWith('type Query {'), /^supergraphPath: \S+ is not a valid supergraph: Syntax Error/],
    [
      'a schema that is not a supergraph',
      () => fileWith('type Query { hello: String }'),
      /^supergraphPath: \S+ is not a valid supergraph: Invalid supergraph: must be a core schema$/,
    ],
  ])('refuses %s, naming the config key', (_, path, message) => {
    expect(() => readSupergraphFile(path(), {})).toThrow(message);
  });

  it('refuses a URL override for a subgraph the supergraph does not have, naming the key and the subgraphs it has', () => {
    expect(() => readSupergraphFile(fileWith(SUPERGRAPH), { greeting: 'http://127.0.0.1:4100/graphql' })).toThrow(
      /^subgraphUrls\.greeting: no subgraph of that name in \S+ \(it has greetings\)$/,
    );
  });
});
