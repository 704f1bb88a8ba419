import type { AuditEvent } from '@medplum/fhirtypes';
import { auditColumns } from '../../gateway/audit/audit-event';
import { entryHash } from '../../gateway/audit/chain';
import type { SqlClient } from '../../gateway/store/engine';

/**
 * What someone with database access could do to the trail, for the tests that show verify catches
 * it. Each switches the append-only trigger off for its change, as an owner of the table can.
 */

async function withTriggersOff(db: SqlClient, table: string, fn: () => Promise<void>): Promise<void> {
  await db.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
  try {
    await fn();
  } finally {
    await db.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
  }
}

async function eventAt(db: SqlClient, seq: number): Promise<AuditEvent> {
  const row = (await db.query<{ event: AuditEvent }>('SELECT event FROM audit_event WHERE seq = $1', [seq])).rows[0];
  if (!row) throw new Error(`no entry ${String(seq)}`);
  return row.event;
}

/** Changes who looked in one entry's event (and its user_id column), leaving its hash as it was. */
export async function changeUserInPlace(db: SqlClient, seq: number, userId: string): Promise<void> {
  const event = await eventAt(db, seq);
  const user = event.agent.find((a) => a.requestor);
  if (user?.who?.identifier) user.who.identifier.value = userId;
  await withTriggersOff(db, 'audit_event', async () => {
    await db.query('UPDATE audit_event SET event = $1::jsonb, user_id = $2 WHERE seq = $3', [JSON.stringify(event), userId, seq]);
  });
}

/** Changes one entry and recomputes its own hash (but not the entries after it). */
export async function changeUserAndRehash(db: SqlClient, seq: number, userId: string): Promise<void> {
  await changeUserInPlace(db, seq, userId);
  const row = (await db.query<{ prev_hash: string; event: AuditEvent }>('SELECT prev_hash, event FROM audit_event WHERE seq = $1', [seq])).rows[0];
  if (!row) throw new Error('gone');
  await withTriggersOff(db, 'audit_event', async () => {
    await db.query('UPDATE audit_event SET hash = $1 WHERE seq = $2', [entryHash(seq, row.prev_hash, row.event), seq]);
  });
}

/** Hides one patient from an entry's patient_ids column only (the event still names them). */
export async function hidePatientColumn(db: SqlClient, seq: number): Promise<void> {
  await withTriggersOff(db, 'audit_event', async () => {
    await db.query(`UPDATE audit_event SET patient_ids = '{}' WHERE seq = $1`, [seq]);
  });
}

export async function deleteEntry(db: SqlClient, seq: number): Promise<void> {
  await withTriggersOff(db, 'audit_event', async () => {
    await db.query('DELETE FROM audit_event WHERE seq = $1', [seq]);
  });
}

/** Deletes the newest entries and moves the head back, as if they had never been written. */
export async function truncateTail(db: SqlClient, fromSeq: number): Promise<void> {
  await withTriggersOff(db, 'audit_event', async () => {
    await db.query('DELETE FROM audit_event WHERE seq >= $1', [fromSeq]);
  });
  const last = (await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1')).rows[0];
  await db.query('UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1', [last?.seq ?? 0, last?.hash ?? '0'.repeat(64)]);
}

/**
 * The careful attacker: changes entry `seq`, then recomputes every hash and link after it and the
 * head, so the chain is consistent again. Only a signed checkpoint can tell.
 */
export async function rewriteChainFrom(db: SqlClient, seq: number, userId: string): Promise<void> {
  await changeUserInPlace(db, seq, userId);
  const rows = (await db.query<{ seq: string; event: AuditEvent }>('SELECT seq, event FROM audit_event WHERE seq >= $1 ORDER BY seq', [seq])).rows;
  let prev = (await db.query<{ hash: string }>('SELECT hash FROM audit_event WHERE seq = $1', [seq - 1])).rows[0]?.hash ?? '0'.repeat(64);
  await withTriggersOff(db, 'audit_event', async () => {
    for (const row of rows) {
      const hash = entryHash(Number(row.seq), prev, row.event);
      await db.query('UPDATE audit_event SET prev_hash = $1, hash = $2, user_id = $3 WHERE seq = $4', [prev, hash, auditColumns(row.event).userId, row.seq]);
      prev = hash;
    }
  });
  await db.query('UPDATE audit_chain_head SET hash = $1 WHERE id = 1', [prev]);
}

export async function deleteStoredCheckpoints(db: SqlClient): Promise<void> {
  await withTriggersOff(db, 'audit_checkpoint', async () => {
    await db.query('DELETE FROM audit_checkpoint');
  });
}

/** Empties the trail between tests (a test helper: the append-only triggers are switched off for it). */
export async function resetTrail(db: SqlClient): Promise<void> {
  for (const table of ['audit_alert_review', 'audit_alert', 'audit_checkpoint', 'audit_event']) {
    await withTriggersOff(db, table, async () => {
      await db.query(`DELETE FROM ${table}`);
    });
  }
  await db.query(`UPDATE audit_chain_head SET seq = 0, hash = $1, checkpoint_seq = 0, checkpoint_at = NULL WHERE id = 1`, ['0'.repeat(64)]);
}
