import type { SqlClient } from '../store/engine';
import { HL7_INBOX_KIND } from './intake';

/** One sender's interface status for the integration team: last message, counts by outcome, backlog. */
export interface SenderStatus {
  sender: string;
  lastMessageAt: string;
  received: number;
  applied: number;
  pending: number;
  failed: number;
  dead: number;
  rejected: number;
}

/** From the inbox, so every process (API replicas included) reports the same. */
export async function interfaceStatus(db: SqlClient): Promise<SenderStatus[]> {
  const rows = await db.query<{ source: string; kind: string; status: string; n: number; last: Date }>(
    `SELECT source, kind, status, count(*)::int AS n, max(received_at) AS last FROM inbox WHERE kind = ANY($1::text[]) GROUP BY source, kind, status`,
    [[HL7_INBOX_KIND, `${HL7_INBOX_KIND}-rejected`]],
  );
  const bySender = new Map<string, SenderStatus>();
  for (const r of rows.rows) {
    const s = bySender.get(r.source) ?? { sender: r.source, lastMessageAt: '', received: 0, applied: 0, pending: 0, failed: 0, dead: 0, rejected: 0 };
    const last = new Date(r.last).toISOString();
    if (last > s.lastMessageAt) s.lastMessageAt = last;
    s.received += r.n;
    if (r.kind !== HL7_INBOX_KIND) s.rejected += r.n;
    else if (r.status === 'done') s.applied += r.n;
    else if (r.status === 'pending' || r.status === 'retry') s.pending += r.n;
    else if (r.status === 'failed') s.failed += r.n;
    else if (r.status === 'dead') s.dead += r.n;
    bySender.set(r.source, s);
  }
  return [...bySender.values()].sort((a, b) => a.sender.localeCompare(b.sender));
}
