import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * A fresh database on the PostgreSQL server named by DATABASE_URL (started by .ci/run, or by hand),
 * dropped again afterwards, so integration test files never see each other's rows.
 */
export function requireDatabaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set: integration tests need a PostgreSQL server (see README, "Running the tests")');
  return url;
}

export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = requireDatabaseUrl();
  const name = `cb_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
