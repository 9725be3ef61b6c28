/**
 * npm run token: prints a development access token, and only that, for the gateway that npm start runs.
 * It signs with the development issuer's key on disk, so the issuer need not be running.
 */
import { parseArgs } from 'node:util';
import { loadOrCreateSigningKey, signAccessToken } from '@switchyard/dev-tools/dev-issuer';
import { DEFAULT_ISSUER_PORT, DEV_AUDIENCE, devIssuerUrl, portFromEnv } from '@switchyard/dev-tools/dev-issuer-settings';

const usage = `Usage: npm run -s token -- [--sub <user id>] [--scope "<scopes>"] [--expires-in <time span>]

Prints an access token for the gateway that npm start runs, and nothing else:
  TOKEN=$(npm run -s token -- --sub usr_003 --scope "orders:read orders:write")
  curl http://localhost:4000/graphql -H "authorization: Bearer $TOKEN" ...

  --sub         the user the token is for (default usr_001)
  --scope       space-separated scopes (default none)
  --expires-in  how long the token is valid, such as 30m, 1h or 7d (default 1h)
  -h, --help    show this text

The token is signed with the development issuer's key in .switchyard/dev-issuer/ (made if absent),
for the issuer http://localhost:$ISSUER_PORT (default ${DEFAULT_ISSUER_PORT}), as npm start sets up the gateway.
`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        sub: { type: 'string', default: 'usr_001' },
        scope: { type: 'string', default: '' },
        'expires-in': { type: 'string', default: '1h' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`token: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!values.sub) {
    process.stderr.write(`token: --sub must not be empty\n`);
    return 2;
  }
  const port = portFromEnv('ISSUER_PORT', DEFAULT_ISSUER_PORT);
  const key = await loadOrCreateSigningKey();
  let token: string;
  try {
    token = await signAccessToken(key, {
      issuer: devIssuerUrl(port),
      audience: DEV_AUDIENCE,
      sub: values.sub,
      scopes: values.scope.split(' ').filter(Boolean),
      expiresIn: values['expires-in'],
    });
  } catch (err) {
    // jose refuses anything but a time span with a TypeError that names its own parameter, not ours.
    if (!(err instanceof TypeError)) throw err;
    process.stderr.write(`token: --expires-in must be a time span such as 30m, 1h or 7d, got "${values['expires-in']}"\n`);
    return 2;
  }
  process.stdout.write(`${token}\n`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`token: ${err.message}\n`);
    process.exitCode = 1;
  },
);
