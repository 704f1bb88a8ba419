import { PREPARE_AFTER } from '../../gateway/store/pg-engine';
import { Store } from '../../gateway/store/store';
import { createTestDatabase } from '../support/postgres';

/** Statements run often become server-side prepared statements, and answer exactly as before. */
test('a statement run PREPARE_AFTER times is prepared on the connection, with the same answers', async () => {
  const database = await createTestDatabase();
  const store = await Store.open({ databaseUrl: database.url });
  try {
    await store.migrate();
    await store.upsert([{ resourceType: 'Patient', id: 'prep-1', birthDate: '1940-01-01' }]);
    const sql = 'SELECT id, content->>$3 AS birth FROM resource WHERE resource_type = $1 AND id = $2';
    const answers = await store.engine.transaction(async (tx) => {
      const got: unknown[] = [];
      for (let i = 0; i < PREPARE_AFTER + 3; i++) got.push((await tx.query(sql, ['Patient', 'prep-1', 'birthDate'])).rows);
      const prepared = await tx.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
      return { got, prepared: prepared.rows.map((r) => r.statement) };
    });
    expect(answers.prepared).toContain(sql);
    expect(answers.got).toEqual(Array.from({ length: PREPARE_AFTER + 3 }, () => [{ id: 'prep-1', birth: '1940-01-01' }]));
  } finally {
    await store.close();
    await database.drop();
  }
});
