/**
 * Jest setup (runs before each test file). Services read DATABASE_URL and friends from the environment;
 * tests decide per scenario which database a service gets, so the URL is moved out of the services' reach.
 */
const postgresUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
if (postgresUrl) process.env.SWITCHYARD_TEST_POSTGRES_URL = postgresUrl;
for (const name of Object.keys(process.env)) {
  if (/^(|USERS_|PRODUCTS_|ORDERS_)DATABASE_URL$/.test(name) || /^(PORT|HOST|CONFIG_FILE|SEED|SUPERGRAPH_PATH|JWT_.*|SUBGRAPH_.*_URL)$/.test(name)) {
    delete process.env[name];
  }
}
process.env.LOG_LEVEL ??= 'silent';
// Every service refuses to start without the secret it signs or verifies forwarded identities with;
// npm start generates one per run, and so does each test file (spawned services inherit it).
process.env.IDENTITY_SIGNING_SECRET ??= require('node:crypto').randomBytes(32).toString('hex');
