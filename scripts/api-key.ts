/**
 * npm run apikey: makes a new API key for a machine client. The key goes to the client (printed once,
 * on stderr, never stored); the config entry with its SHA-256 goes on stdout, ready to append to
 * authentication.api_keys.keys or the api_keys file.
 */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { generateApiKey } from '../gateway/src/plugins/identity/api-keys';

const usage = `Usage: npm run -s apikey -- --name <client> [--scope <scope>]... [--rate-limit-class <class>]

Prints a new API key (stderr) and its config entry (stdout):
  npm run -s apikey -- --name ci --scope products:read >> api-keys.yaml

  --name              who holds the key; the principal id in logs and rate limits (required)
  --scope             a scope the key holds; repeat for more
  --rate-limit-class  a class of rate_limit.classes that limits this key
  -h, --help          show this text

Clients send it as the header  x-api-key: <key>
`;

function main(): number {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        name: { type: 'string' },
        scope: { type: 'string', multiple: true, default: [] },
        'rate-limit-class': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`apikey: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!values.name) {
    process.stderr.write(`apikey: --name is required\n\n${usage}`);
    return 2;
  }
  const { key, sha256 } = generateApiKey();
  const entry = {
    name: values.name,
    sha256,
    scopes: values.scope.flatMap((s) => s.split(' ')).filter(Boolean),
    ...(values['rate-limit-class'] && { rate_limit_class: values['rate-limit-class'] }),
  };
  process.stderr.write(`API key for ${values.name} (shown once; give it to the client, store only the entry below):\n${key}\n`);
  process.stdout.write(stringify([entry]));
  return 0;
}

process.exitCode = main();
