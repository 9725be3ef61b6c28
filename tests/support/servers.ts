/** Which real servers this run has. Without one, its tests skip on a laptop but fail under CI=true. */
export const inCI = process.env.CI === 'true';

export const postgresUrl: string | undefined = process.env.SWITCHYARD_TEST_POSTGRES_URL;

export type Backend = 'pglite' | 'postgres';

/** PGlite always; PostgreSQL when a server is configured, and always in CI (where a missing one fails). */
export const backends: Backend[] = postgresUrl || inCI ? ['pglite', 'postgres'] : ['pglite'];

if (!postgresUrl && !inCI) {
  process.stderr.write('note: no TEST_DATABASE_URL/DATABASE_URL: PostgreSQL scenarios are not run (they are required when CI=true)\n');
}

export function requirePostgresUrl(): string {
  if (!postgresUrl) throw new Error('CI=true but no PostgreSQL server is configured: set DATABASE_URL (see .ci/run)');
  return postgresUrl;
}
