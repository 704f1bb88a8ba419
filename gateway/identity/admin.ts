import type { Patient } from '@medplum/fhirtypes';
import type { SqlClient } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';
import type { Store } from '../store/store';
import { resolveIdentity, type ResolutionResult } from './resolver';

/** An admin's decision that two source records are (link) or are not (unlink) one person. Audited by its own row. */
export async function recordIdentityDecision(
  store: Store,
  input: { kind: 'link' | 'unlink'; a: string; b: string; reason: string; decidedBy: string; now?: Date },
): Promise<ResolutionResult> {
  if (input.a === input.b) throw new Error('A record is always the same person as itself');
  if (input.reason.trim().length < 3) throw new Error('A reason is required');
  const found = await store.engine.query<{ id: string }>(`SELECT id FROM resource WHERE resource_type = 'Patient' AND id = ANY($1::text[])`, [[input.a, input.b]]);
  if (found.rows.length !== 2) throw new Error('Both Patient records must exist');
  const now = input.now ?? new Date();
  await store.engine.query(`INSERT INTO identity_decision (kind, a, b, reason, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz)`, [
    input.kind, input.a, input.b, input.reason.trim(), input.decidedBy, now.toISOString(),
  ]);
  return resolveIdentity(store.engine, [input.a, input.b], now);
}

export interface ReviewSide {
  patientId: string;
  source: string;
  nhsNumber?: string;
  birthDate?: string;
  name?: string;
}

export interface ReviewItem {
  kind: string;
  nhsNumber: string;
  reason: string;
  firstSeen: string;
  a: ReviewSide;
  b: ReviewSide;
}

async function side(db: SqlClient, patientId: string): Promise<ReviewSide> {
  const rows = await db.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE resource_type = 'Patient' AND id = $1`, [patientId]);
  const row = rows.rows[0];
  if (!row) return { patientId, source: 'unknown' };
  const p = parseStoredResource(row.content) as Patient;
  const name = p.name?.[0];
  return {
    patientId,
    source: p.meta?.source ?? 'unknown',
    nhsNumber: p.identifier?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value,
    birthDate: p.birthDate,
    name: name ? [name.family, ...(name.given ?? [])].filter(Boolean).join(', ') : undefined,
  };
}

/** Open identity reviews (conflicts and possible matches), each with both sides, oldest first. */
export async function listIdentityReviews(db: SqlClient, kinds?: readonly string[]): Promise<ReviewItem[]> {
  const rows = await db.query<{ kind: string; nhs_number: string; a: string; b: string; reason: string; first_seen: Date }>(
    `SELECT kind, nhs_number, a, b, reason, first_seen FROM identity_review WHERE status = 'open' AND ($1::text[] IS NULL OR kind = ANY($1::text[])) ORDER BY first_seen, kind, a, b`,
    [kinds ?? null],
  );
  const items: ReviewItem[] = [];
  for (const r of rows.rows) {
    items.push({ kind: r.kind, nhsNumber: r.nhs_number, reason: r.reason, firstSeen: new Date(r.first_seen).toISOString(), a: await side(db, r.a), b: await side(db, r.b) });
  }
  return items;
}
