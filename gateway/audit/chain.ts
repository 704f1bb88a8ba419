import type { AuditEvent } from '@medplum/fhirtypes';
import { canonicalJson, sha256Hex } from '../fhir/canonical-json';
import type { SqlClient } from '../store/engine';
import { pgArrayLiteral } from '../store/resource-writer';
import { auditColumns } from './audit-event';
import type { CheckpointPayload, CheckpointSigner } from './signing';

/**
 * The hash chain. Entry n stores the hash of entry n-1 (`prev_hash`) and its own hash:
 * sha-256 over the RFC 8785 canonical JSON of { seq, prevHash, event } (canonical-json.ts sorts
 * keys and serialises strings and numbers as ECMAScript JSON does, which is what RFC 8785
 * specifies; events hold only strings, integers and booleans). The first entry's prev_hash is
 * GENESIS_HASH. Appends lock the one chain-head row, so writers in several processes take turns
 * and the chain stays linear; the head row moves in the same transaction as the inserts.
 */

export const GENESIS_HASH = '0'.repeat(64);

export function entryHash(seq: number, prevHash: string, event: AuditEvent): string {
  return entryHashOfCanonical(seq, prevHash, canonicalJson(event));
}

/**
 * entryHash from the event's canonical JSON, which an append also stores (one serialisation of a
 * large entry instead of two): the canonical form of { seq, prevHash, event } is this text, its
 * keys in code unit order (event, prevHash, seq).
 */
function entryHashOfCanonical(seq: number, prevHash: string, canonicalEvent: string): string {
  return sha256Hex(`{"event":${canonicalEvent},"prevHash":${JSON.stringify(prevHash)},"seq":${canonicalJson(seq)}}`);
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
  readonly checkpointSeq: number;
  readonly checkpointAt?: Date;
}

export interface AppendedEntry {
  readonly seq: number;
  readonly id: string;
  readonly hash: string;
}

interface HeadRow {
  seq: string | number;
  hash: string;
  checkpoint_seq: string | number;
  checkpoint_at: Date | string | null;
}

function headOf(row: HeadRow | undefined): ChainHead {
  if (!row) throw new Error('audit_chain_head is missing: the audit migration has not run');
  return { seq: Number(row.seq), hash: row.hash, checkpointSeq: Number(row.checkpoint_seq), ...(row.checkpoint_at ? { checkpointAt: new Date(row.checkpoint_at) } : {}) };
}

/** Locks the chain head for this transaction (other appenders wait) and returns it. */
export async function lockChainHead(tx: SqlClient): Promise<ChainHead> {
  const result = await tx.query<HeadRow>('SELECT seq, hash, checkpoint_seq, checkpoint_at FROM audit_chain_head WHERE id = 1 FOR UPDATE');
  return headOf(result.rows[0]);
}

export async function readChainHead(db: SqlClient): Promise<ChainHead> {
  const result = await db.query<HeadRow>('SELECT seq, hash, checkpoint_seq, checkpoint_at FROM audit_chain_head WHERE id = 1');
  return headOf(result.rows[0]);
}

interface ChainRows {
  readonly params: unknown[];
  readonly appended: AppendedEntry[];
  readonly seq: number;
  readonly hash: string;
}

/** The rows that continue the chain from `head` with `events`: each entry's seq, links and hash. */
function chainRows(head: ChainHead, events: readonly AuditEvent[]): ChainRows {
  const cols = { seq: [] as string[], id: [] as string[], recorded: [] as string[], requestId: [] as (string | null)[], userId: [] as string[], organisation: [] as (string | null)[], role: [] as (string | null)[], purpose: [] as (string | null)[], interaction: [] as string[], outcome: [] as string[], patients: [] as string[], event: [] as string[], prev: [] as string[], hash: [] as string[] };
  const appended: AppendedEntry[] = [];
  let seq = head.seq;
  let prev = head.hash;
  for (const event of events) {
    seq += 1;
    const canonical = canonicalJson(event);
    const hash = entryHashOfCanonical(seq, prev, canonical);
    const c = auditColumns(event);
    cols.seq.push(String(seq));
    cols.id.push(c.id);
    cols.recorded.push(c.recorded);
    cols.requestId.push(c.requestId);
    cols.userId.push(c.userId);
    cols.organisation.push(c.organisation);
    cols.role.push(c.role);
    cols.purpose.push(c.purpose);
    cols.interaction.push(c.interaction);
    cols.outcome.push(c.outcome);
    cols.patients.push(pgArrayLiteral(c.patientIds));
    cols.event.push(canonical);
    cols.prev.push(prev);
    cols.hash.push(hash);
    appended.push({ seq, id: c.id, hash });
    prev = hash;
  }
  return {
    params: [cols.seq, cols.id, cols.recorded, cols.requestId, cols.userId, cols.organisation, cols.role, cols.purpose, cols.interaction, cols.outcome, cols.patients, `[${cols.event.join(',')}]`, cols.prev, cols.hash],
    appended,
    seq,
    hash: prev,
  };
}

// The events go as one JSON array ($12), not a text[]: an entry of a record page lists every
// resource returned, and a text[] parameter would escape each of its quotes again. The column is
// json (migration 17), so each entry is stored as the canonical text it was hashed from, checked
// as JSON but not converted to jsonb (which cost a record page's entry about 5 ms of server CPU).
const INSERT_ENTRIES = `INSERT INTO audit_event (seq, id, recorded, request_id, user_id, organisation, role, purpose, interaction, outcome, patient_ids, event, prev_hash, hash)
     SELECT s::bigint, i::uuid, r::timestamptz, q, u, o, ro, pu, it, oc, p::text[], e.value, ph, h
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $13::text[], $14::text[]) WITH ORDINALITY
         AS x(s, i, r, q, u, o, ro, pu, it, oc, p, ph, h, n)
       JOIN json_array_elements($12::json) WITH ORDINALITY AS e(value, k) ON e.k = x.n`;

/** Appends events after the locked head, in one INSERT, and moves the head. Call inside a transaction holding lockChainHead. */
export async function appendToChain(tx: SqlClient, head: ChainHead, events: readonly AuditEvent[]): Promise<{ head: ChainHead; appended: AppendedEntry[] }> {
  if (events.length === 0) return { head, appended: [] };
  const rows = chainRows(head, events);
  await tx.query(INSERT_ENTRIES, rows.params);
  await tx.query('UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1', [rows.seq, rows.hash]);
  return { head: { ...head, seq: rows.seq, hash: rows.hash }, appended: rows.appended };
}

/**
 * Appends events after `head` in ONE statement (one round trip, atomic on its own), if and only if
 * the head is still `head`: the UPDATE of the head row only matches that seq and hash, and the
 * inserts happen only if it did. Under READ COMMITTED a concurrent appender's UPDATE makes this one
 * wait for its commit and then match nothing, so two processes can never both extend the same
 * head. Returns undefined when the head had moved (the caller re-reads it and tries again).
 * `checkpoint(seq, hash)` is asked before the statement whether to sign one at the new head.
 */
export async function appendIfHeadIs(
  db: SqlClient,
  head: ChainHead,
  events: readonly AuditEvent[],
  checkpoint: (seq: number, hash: string) => Promise<Checkpoint | undefined>,
): Promise<{ head: ChainHead; appended: AppendedEntry[]; checkpoint?: Checkpoint } | undefined> {
  const rows = chainRows(head, events);
  const signed = await checkpoint(rows.seq, rows.hash);
  const result = await db.query<{ moved: number }>(
    `WITH moved AS (
       UPDATE audit_chain_head SET seq = $15, hash = $16,
              checkpoint_seq = CASE WHEN $19::text IS NULL THEN checkpoint_seq ELSE $15 END,
              checkpoint_at = CASE WHEN $19::text IS NULL THEN checkpoint_at ELSE $20::timestamptz END
        WHERE id = 1 AND seq = $17 AND hash = $18
       RETURNING seq),
     entries AS (${INSERT_ENTRIES} WHERE EXISTS (SELECT 1 FROM moved) RETURNING 1),
     signed AS (
       INSERT INTO audit_checkpoint (seq, hash, created, kid, jws)
       SELECT $15, $16, $20::timestamptz, $21, $19 WHERE $19::text IS NOT NULL AND EXISTS (SELECT 1 FROM moved)
       RETURNING 1)
     SELECT (SELECT count(*) FROM moved)::int AS moved, (SELECT count(*) FROM entries)::int AS entries, (SELECT count(*) FROM signed)::int AS signed`,
    [...rows.params, rows.seq, rows.hash, head.seq, head.hash, signed?.jws ?? null, signed?.time ?? null, signed?.kid ?? null],
  );
  if ((result.rows[0]?.moved ?? 0) === 0) return undefined;
  const after: ChainHead = signed ? { seq: rows.seq, hash: rows.hash, checkpointSeq: rows.seq, checkpointAt: new Date(signed.time) } : { ...head, seq: rows.seq, hash: rows.hash };
  return { head: after, appended: rows.appended, ...(signed ? { checkpoint: signed } : {}) };
}

/** Signs a checkpoint of (seq, hash) without storing it (appendIfHeadIs stores it with the entries). */
export async function signCheckpoint(signer: CheckpointSigner, seq: number, hash: string, node: string, now: Date): Promise<Checkpoint> {
  const payload: CheckpointPayload = { seq, hash, time: now.toISOString(), node };
  return { ...payload, kid: signer.kid, jws: await signer.sign(payload) };
}

export interface Checkpoint extends CheckpointPayload {
  readonly kid: string;
  readonly jws: string;
}

/** Signs and stores a checkpoint of the locked head. Call inside the transaction holding lockChainHead. */
export async function writeCheckpoint(tx: SqlClient, head: ChainHead, signer: CheckpointSigner, node: string, now: Date): Promise<Checkpoint> {
  const payload: CheckpointPayload = { seq: head.seq, hash: head.hash, time: now.toISOString(), node };
  const jws = await signer.sign(payload);
  await tx.query('INSERT INTO audit_checkpoint (seq, hash, created, kid, jws) VALUES ($1, $2, $3, $4, $5)', [head.seq, head.hash, payload.time, signer.kid, jws]);
  await tx.query('UPDATE audit_chain_head SET checkpoint_seq = $1, checkpoint_at = $2 WHERE id = 1', [head.seq, payload.time]);
  return { ...payload, kid: signer.kid, jws };
}

export async function listCheckpoints(db: SqlClient): Promise<Checkpoint[]> {
  const result = await db.query<{ seq: string | number; hash: string; created: Date | string; kid: string; jws: string }>('SELECT seq, hash, created, kid, jws FROM audit_checkpoint ORDER BY seq');
  return result.rows.map((r) => {
    // The node is inside the signed payload; read it back without trusting it (verify checks the signature).
    const node = (() => {
      try {
        const part = r.jws.split('.')[1] ?? '';
        const node = (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { node?: unknown }).node;
        return typeof node === 'string' ? node : '';
      } catch {
        return '';
      }
    })();
    return { seq: Number(r.seq), hash: r.hash, time: new Date(r.created).toISOString(), node, kid: r.kid, jws: r.jws };
  });
}
