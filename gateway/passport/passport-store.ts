import type { Bundle } from '@medplum/fhirtypes';
import type { Journey } from '../../mappings/passport/journey';
import type { PassportKind } from '../../mappings/passport/view';
import type { SqlClient } from '../store/engine';

/**
 * The passport tables (schema.ts): SQL only. An issued version is inserted once and never
 * changed (the database refuses); a reader's copy is recorded the first time it is issued.
 */

export interface RedBagRow {
  readonly id: string;
  readonly patientId: string;
  readonly personIds: readonly string[];
  readonly careHome: string;
  readonly careHomeName?: string;
  readonly journey: Journey;
  readonly encounterId?: string;
  readonly openedBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface PassportRow {
  readonly id: string;
  readonly version: number;
  readonly kind: PassportKind;
  readonly redBagId: string;
  readonly patientId: string;
  readonly issuedAt: string;
  readonly issuedBy: string;
  readonly issuedByUser: string;
  readonly reason?: string;
  readonly fingerprint: string;
  readonly document: Bundle;
}

interface RawBag {
  id: string;
  patient_id: string;
  person_ids: string[];
  care_home: string;
  care_home_name: string | null;
  journey: Journey;
  encounter_id: string | null;
  opened_by: string;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

const bagOf = (r: RawBag): RedBagRow => ({
  id: r.id,
  patientId: r.patient_id,
  personIds: r.person_ids,
  careHome: r.care_home,
  ...(r.care_home_name ? { careHomeName: r.care_home_name } : {}),
  journey: r.journey,
  ...(r.encounter_id ? { encounterId: r.encounter_id } : {}),
  openedBy: r.opened_by,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const BAG_COLUMNS = 'id, patient_id, person_ids, care_home, care_home_name, journey, encounter_id, opened_by, created_at, updated_at';

export async function insertBag(db: SqlClient, bag: Omit<RedBagRow, 'updatedAt'>): Promise<void> {
  await db.query(
    `INSERT INTO red_bag (id, patient_id, person_ids, care_home, care_home_name, state, journey, encounter_id, opened_by, created_at, updated_at)
     VALUES ($1, $2, $3::text[], $4, $5, $6, $7::jsonb, $8, $9, $10::timestamptz, $10::timestamptz)`,
    [bag.id, bag.patientId, bag.personIds, bag.careHome, bag.careHomeName ?? null, bag.journey.state, JSON.stringify(bag.journey), bag.encounterId ?? null, bag.openedBy, bag.createdAt],
  );
}

export async function updateJourney(db: SqlClient, id: string, journey: Journey, personIds: readonly string[], now: Date): Promise<void> {
  await db.query(`UPDATE red_bag SET state = $2, journey = $3::jsonb, encounter_id = $4, person_ids = $5::text[], updated_at = $6::timestamptz WHERE id = $1`, [
    id,
    journey.state,
    JSON.stringify(journey),
    journey.encounterId ?? null,
    personIds,
    now.toISOString(),
  ]);
}

export async function getBag(db: SqlClient, id: string, forUpdate = false): Promise<RedBagRow | undefined> {
  const rows = await db.query<RawBag>(`SELECT ${BAG_COLUMNS} FROM red_bag WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows.rows[0] ? bagOf(rows.rows[0]) : undefined;
}

/** Bags of anyone among these patient ids (one person's source records), newest first. */
export async function bagsOfPerson(db: SqlClient, personIds: readonly string[], states?: readonly string[]): Promise<RedBagRow[]> {
  const rows = await db.query<RawBag>(
    `SELECT ${BAG_COLUMNS} FROM red_bag WHERE person_ids && $1::text[] ${states ? 'AND state = ANY($2::text[])' : ''} ORDER BY created_at DESC, id`,
    states ? [personIds, states] : [personIds],
  );
  return rows.rows.map(bagOf);
}

interface RawPassport {
  id: string;
  version: number;
  kind: PassportKind;
  red_bag_id: string;
  patient_id: string;
  issued_at: Date | string;
  issued_by: string;
  issued_by_user: string;
  reason: string | null;
  fingerprint: string;
  document: Bundle | string;
}

const passportOf = (r: RawPassport): PassportRow => ({
  id: r.id,
  version: r.version,
  kind: r.kind,
  redBagId: r.red_bag_id,
  patientId: r.patient_id,
  issuedAt: iso(r.issued_at),
  issuedBy: r.issued_by,
  issuedByUser: r.issued_by_user,
  ...(r.reason ? { reason: r.reason } : {}),
  fingerprint: r.fingerprint,
  document: typeof r.document === 'string' ? (JSON.parse(r.document) as Bundle) : r.document,
});

const PASSPORT_COLUMNS = 'id, version, kind, red_bag_id, patient_id, issued_at, issued_by, issued_by_user, reason, fingerprint, document::text AS document';

export async function insertPassport(db: SqlClient, p: PassportRow): Promise<void> {
  await db.query(
    `INSERT INTO passport (id, version, kind, red_bag_id, patient_id, issued_at, issued_by, issued_by_user, reason, fingerprint, document)
     VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7, $8, $9, $10, $11::jsonb)`,
    [p.id, p.version, p.kind, p.redBagId, p.patientId, p.issuedAt, p.issuedBy, p.issuedByUser, p.reason ?? null, p.fingerprint, JSON.stringify(p.document)],
  );
}

/** One version, or the latest when version is undefined. */
export async function getPassport(db: SqlClient, id: string, version?: number): Promise<PassportRow | undefined> {
  const rows = await db.query<RawPassport>(
    version === undefined ? `SELECT ${PASSPORT_COLUMNS} FROM passport WHERE id = $1 ORDER BY version DESC LIMIT 1` : `SELECT ${PASSPORT_COLUMNS} FROM passport WHERE id = $1 AND version = $2`,
    version === undefined ? [id] : [id, version],
  );
  return rows.rows[0] ? passportOf(rows.rows[0]) : undefined;
}

export async function latestVersion(db: SqlClient, id: string): Promise<number> {
  const rows = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM passport WHERE id = $1', [id]);
  return rows.rows[0]?.v ?? 0;
}

export interface PassportVersionSummary {
  readonly id: string;
  readonly version: number;
  readonly kind: PassportKind;
  readonly redBagId: string;
  readonly issuedAt: string;
  readonly issuedBy: string;
  readonly reason?: string;
}

export async function versionsOfBags(db: SqlClient, bagIds: readonly string[]): Promise<PassportVersionSummary[]> {
  if (bagIds.length === 0) return [];
  const rows = await db.query<{ id: string; version: number; kind: PassportKind; red_bag_id: string; issued_at: Date | string; issued_by: string; reason: string | null }>(
    `SELECT id, version, kind, red_bag_id, issued_at, issued_by, reason FROM passport WHERE red_bag_id = ANY($1::text[]) ORDER BY red_bag_id, kind DESC, version`,
    [bagIds],
  );
  return rows.rows.map((r) => ({ id: r.id, version: r.version, kind: r.kind, redBagId: r.red_bag_id, issuedAt: iso(r.issued_at), issuedBy: r.issued_by, ...(r.reason ? { reason: r.reason } : {}) }));
}

export interface CopyRow {
  readonly fingerprint: string;
  readonly passportId: string;
  readonly version: number;
  readonly copy: string;
  readonly audience: string;
  readonly withheldSections: readonly string[];
  readonly createdAt: string;
}

export async function recordCopy(db: SqlClient, copy: Omit<CopyRow, 'createdAt'> & { issuedTo: string; now: Date }): Promise<void> {
  await db.query(
    `INSERT INTO passport_copy (fingerprint, passport_id, version, copy, audience, withheld_sections, first_issued_to, created_at)
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8::timestamptz) ON CONFLICT (fingerprint) DO NOTHING`,
    [copy.fingerprint, copy.passportId, copy.version, copy.copy, copy.audience, copy.withheldSections, copy.issuedTo, copy.now.toISOString()],
  );
}

/** What a fingerprint is: an issued version, or a reader's copy of one. */
export async function findByFingerprint(db: SqlClient, fingerprint: string): Promise<{ passportId: string; version: number; copy: string; audience?: string } | undefined> {
  const issued = await db.query<{ id: string; version: number }>('SELECT id, version FROM passport WHERE fingerprint = $1', [fingerprint]);
  const row = issued.rows[0];
  if (row) return { passportId: row.id, version: row.version, copy: '' };
  const copies = await db.query<{ passport_id: string; version: number; copy: string; audience: string }>('SELECT passport_id, version, copy, audience FROM passport_copy WHERE fingerprint = $1', [fingerprint]);
  const c = copies.rows[0];
  return c ? { passportId: c.passport_id, version: c.version, copy: c.copy, audience: c.audience } : undefined;
}
