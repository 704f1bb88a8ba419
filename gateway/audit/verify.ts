import type { AuditEvent } from '@medplum/fhirtypes';
import type { SqlClient } from '../store/engine';
import { auditColumns } from './audit-event';
import { entryHash, GENESIS_HASH, listCheckpoints, readChainHead } from './chain';
import type { ExportedCheckpoint } from './checkpoint-file';
import type { CheckpointKeySet } from './signing';

/**
 * Verifies the audit trail: walks the chain in order and checks every entry's sequence number,
 * link (prev_hash = the previous entry's hash), own hash and search columns (they must say what
 * the event says, or an entry could be hidden from a person's access report); checks the chain
 * head; checks every stored checkpoint's signature and that the chain still ends in the signed
 * hash at that point; and the same for exported checkpoints, which also catch a rewrite of the
 * whole chain together with the database's checkpoints.
 */

export const ProblemKind = {
  ENTRY: 'entry',
  HEAD: 'head',
  CHECKPOINT: 'checkpoint',
  EXPORTED_CHECKPOINT: 'exported-checkpoint',
} as const;
export type ProblemKind = (typeof ProblemKind)[keyof typeof ProblemKind];

export interface VerifyProblem {
  readonly kind: ProblemKind;
  /** The entry the problem is at, when there is one. */
  readonly seq?: number;
  readonly id?: string;
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly headSeq: number;
  readonly checkpoints: number;
  readonly exportedCheckpoints: number;
  /** The lowest entry found broken (missing, changed, unlinked, or disagreeing with a signed checkpoint). */
  readonly firstBroken?: { seq: number; id?: string; reason: string };
  readonly problems: readonly VerifyProblem[];
}

interface Row {
  seq: string | number;
  id: string;
  recorded: Date | string;
  request_id: string | null;
  user_id: string;
  organisation: string | null;
  role: string | null;
  purpose: string | null;
  interaction: string;
  outcome: string;
  patient_ids: string[];
  event: AuditEvent;
  prev_hash: string;
  hash: string;
}

const MAX_PROBLEMS = 100;

function columnMismatch(row: Row): string | undefined {
  const c = auditColumns(row.event);
  const differs: string[] = [];
  if (c.id !== row.id) differs.push('id');
  if (Date.parse(c.recorded) !== new Date(row.recorded).getTime()) differs.push('recorded');
  const pairs: [string, unknown, unknown][] = [
    ['request_id', c.requestId, row.request_id],
    ['user_id', c.userId, row.user_id],
    ['organisation', c.organisation, row.organisation],
    ['role', c.role, row.role],
    ['purpose', c.purpose, row.purpose],
    ['interaction', c.interaction, row.interaction],
    ['outcome', c.outcome, row.outcome],
    ['patient_ids', c.patientIds.join(','), [...row.patient_ids].sort().join(',')],
  ];
  for (const [name, fromEvent, stored] of pairs) if (fromEvent !== stored) differs.push(name);
  return differs.length > 0 ? `its ${differs.join(', ')} column(s) disagree with the stored event` : undefined;
}

export async function verifyAuditTrail(db: SqlClient, keys: CheckpointKeySet, options: { exported?: readonly ExportedCheckpoint[]; pageSize?: number } = {}): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  let firstBroken: VerifyReport['firstBroken'];
  const problem = (p: VerifyProblem, broken = true): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
    if (broken && p.seq !== undefined && (!firstBroken || p.seq < firstBroken.seq)) firstBroken = { seq: p.seq, ...(p.id ? { id: p.id } : {}), reason: p.message };
  };

  // Signed checkpoints first: the walk remembers the chain's hash at each signed seq.
  const stored = await listCheckpoints(db);
  const signed: { kind: ProblemKind; where: string; seq: number; hash: string }[] = [];
  for (const c of stored) {
    try {
      const payload = await keys.verify(c.jws);
      if (payload.seq !== c.seq || payload.hash !== c.hash) problem({ kind: ProblemKind.CHECKPOINT, seq: c.seq, message: `checkpoint at seq ${String(c.seq)}: its columns differ from its signed payload (seq ${String(payload.seq)})` }, false);
      signed.push({ kind: ProblemKind.CHECKPOINT, where: `stored checkpoint at seq ${String(payload.seq)}`, seq: payload.seq, hash: payload.hash });
    } catch (err) {
      problem({ kind: ProblemKind.CHECKPOINT, seq: c.seq, message: `checkpoint at seq ${String(c.seq)}: ${(err as Error).message}` }, false);
    }
  }
  for (const e of options.exported ?? []) {
    try {
      const payload = await keys.verify(e.jws);
      signed.push({ kind: ProblemKind.EXPORTED_CHECKPOINT, where: `${e.where} (seq ${String(payload.seq)})`, seq: payload.seq, hash: payload.hash });
    } catch (err) {
      problem({ kind: ProblemKind.EXPORTED_CHECKPOINT, message: `${e.where}: ${(err as Error).message}` }, false);
    }
  }
  const wanted = new Set(signed.map((s) => s.seq));
  const atSeq = new Map<number, { id: string; hash: string }>();

  const pageSize = options.pageSize ?? 2000;
  let expected = 1;
  let prevHash = GENESIS_HASH;
  let entries = 0;
  let last = 0;
  for (;;) {
    const page = await db.query<Row>(
      `SELECT seq, id::text AS id, recorded, request_id, user_id, organisation, role, purpose, interaction, outcome, patient_ids, event, prev_hash, hash
         FROM audit_event WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [last, pageSize],
    );
    for (const row of page.rows) {
      const seq = Number(row.seq);
      entries += 1;
      if (seq !== expected) {
        const gap = seq - expected;
        problem({ kind: ProblemKind.ENTRY, seq: expected, message: `entr${gap === 1 ? 'y' : 'ies'} ${String(expected)}${gap > 1 ? `-${String(seq - 1)}` : ''} missing: the next entry is seq ${String(seq)} (id ${row.id})` });
      } else if (row.prev_hash !== prevHash) {
        problem({ kind: ProblemKind.ENTRY, seq, id: row.id, message: `entry ${String(seq)} does not link to entry ${String(seq - 1)}: its prev_hash differs from that entry's hash (one of the two was changed)` });
      }
      const recomputed = entryHash(seq, row.prev_hash, row.event);
      if (recomputed !== row.hash) problem({ kind: ProblemKind.ENTRY, seq, id: row.id, message: `entry ${String(seq)} was changed: its hash does not match its content` });
      const mismatch = columnMismatch(row);
      if (mismatch) problem({ kind: ProblemKind.ENTRY, seq, id: row.id, message: `entry ${String(seq)}: ${mismatch}` });
      if (wanted.has(seq)) atSeq.set(seq, { id: row.id, hash: row.hash });
      // Carry on from what is there, so one break does not hide the state of the rest.
      expected = seq + 1;
      prevHash = row.hash;
      last = seq;
    }
    if (page.rows.length < pageSize) break;
  }

  const head = await readChainHead(db);
  if (head.seq !== last || head.hash !== prevHash) {
    const message =
      head.seq > last
        ? `the chain head says seq ${String(head.seq)} but the last entry is seq ${String(last)}: entries after ${String(last)} were removed`
        : `the chain head (seq ${String(head.seq)}) does not match the last entry (seq ${String(last)})`;
    problem({ kind: ProblemKind.HEAD, seq: Math.min(head.seq, last) + 1, message });
  }

  // Each signed checkpoint names the hash the chain had at its seq; the chain must still have it.
  const ordered = [...signed].sort((a, b) => a.seq - b.seq);
  let lastGood = 0;
  for (const s of ordered) {
    const entry = atSeq.get(s.seq);
    if (!entry) {
      problem({ kind: s.kind, seq: s.seq, message: `${s.where}: entry ${String(s.seq)} no longer exists; the chain was cut short or rewritten` });
    } else if (entry.hash !== s.hash) {
      problem({ kind: s.kind, seq: s.seq, id: entry.id, message: `${s.where}: entry ${String(s.seq)} (id ${entry.id}) does not have the signed hash; the chain was rewritten somewhere in entries ${String(lastGood + 1)}-${String(s.seq)}` });
    } else {
      lastGood = Math.max(lastGood, s.seq);
    }
  }

  return {
    ok: problems.length === 0,
    entries,
    headSeq: head.seq,
    checkpoints: stored.length,
    exportedCheckpoints: options.exported?.length ?? 0,
    ...(firstBroken ? { firstBroken } : {}),
    problems,
  };
}
