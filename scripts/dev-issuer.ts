/**
 * The development token issuer as its own process, as npm start runs it: PORT, HOST and LOG_LEVEL from the
 * environment, the signing key from disk. The issuer itself is @switchyard/dev-tools/dev-issuer.
 */
import { loadOrCreateSigningKey, startDevIssuer } from '@switchyard/dev-tools/dev-issuer';
import { DEFAULT_ISSUER_PORT, portFromEnv } from '@switchyard/dev-tools/dev-issuer-settings';

async function main(): Promise<void> {
  const issuer = await startDevIssuer({
    port: portFromEnv('PORT', DEFAULT_ISSUER_PORT),
    host: process.env.HOST || undefined,
    logLevel: process.env.LOG_LEVEL || undefined,
    signingKey: await loadOrCreateSigningKey(),
  });
  const stop = () => {
    issuer.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Only now: whoever reads this line may signal at once, and must find the handlers in place.
  process.stdout.write(`issuer ready at ${issuer.issuer}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`issuer failed to start: ${err.message}\n`);
  process.exit(1);
});
