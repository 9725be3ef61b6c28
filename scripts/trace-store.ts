/**
 * The development trace store as its own process (npm start runs it inside its supervisor instead): PORT and
 * HOST from the environment. The store itself is @switchyard/dev-tools/trace-store.
 */
import { startTraceStore } from '@switchyard/dev-tools/trace-store';

const port = Number(process.env.PORT ?? 4318);
startTraceStore({ port, host: process.env.HOST || '127.0.0.1' }).then(
  (store) => process.stdout.write(`traces ready at ${store.url}\n`),
  (err: Error) => {
    process.stderr.write(`trace store failed to start: ${err.message}\n`);
    process.exit(1);
  },
);
