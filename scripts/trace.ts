/**
 * npm run trace -- '<query>' [--variables JSON] [--as usr_001 [--scope 'orders:read']] [--token JWT]: sends
 * one GraphQL request to the gateway that npm start runs, waits for every service's spans to reach the
 * development trace store, and prints the trace as an indented waterfall.
 */
import { parseArgs } from 'node:util';
import { formatWaterfall } from '@switchyard/service-kit';
import { devToken, platformUrls, traceRequest } from './trace-request';

const USAGE = `Usage: npm run trace -- '<query>' [--variables '{"id":"usr_001"}'] [--as usr_001 [--scope 'orders:read orders:write']] [--token <JWT>]
  --as      sign in as this user with a token from npm start's development issuer
  --scope   the scopes that token carries, space-separated (default none)
  --token   send this bearer token instead
  GATEWAY_URL (default http://127.0.0.1:4000/graphql), TRACES_URL (default http://127.0.0.1:4318)
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      variables: { type: 'string' },
      as: { type: 'string' },
      scope: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const conflict = values.token && (values.as || values.scope) ? '--token is a credential already: give it without --as and --scope\n' : '';
  const stray = values.scope && !values.as ? '--scope needs --as: the scopes go into the token issued for that user\n' : '';
  if (values.help || positionals.length !== 1 || conflict || stray) {
    process.stderr.write(conflict + stray + USAGE);
    return values.help ? 0 : 2;
  }
  const urls = platformUrls();
  const token = values.token ?? (values.as ? await devToken(urls.issuer, values.as, values.scope) : undefined);
  const variables = values.variables ? JSON.parse(values.variables) : undefined;
  const traced = await traceRequest({ graphqlUrl: urls.graphql, tracesUrl: urls.traces, query: positionals[0]!, variables, token });
  const answer = traced.body;
  process.stdout.write(`HTTP ${traced.status} in ${traced.ms.toFixed(1)} ms: ${answer.length > 300 ? `${answer.slice(0, 300)}...` : answer}\n\n`);
  if (!traced.spans.length) {
    process.stderr.write(`no spans for trace ${traced.traceId} reached ${urls.traces}: is npm start running (it starts the trace store)?\n`);
    return 1;
  }
  process.stdout.write(formatWaterfall(traced.spans));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`trace: ${err.message}\n`);
    process.exit(1);
  },
);
