import type { Resource } from '@medplum/fhirtypes';
import { personIdsOf, personOfPatientSql } from '../identity/resolver';
import { epochOfIdsSql } from './decision-cache';
import type { SqlClient } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';

/**
 * What the access rules read about one person (consent/ AccessInput.record): every source
 * record's Patient, and the CareTeams, EpisodeOfCare, Encounters, ServiceRequests and Consents in
 * the compartment of any of them. Read with the system's own rights: it decides access, it is
 * never shown.
 */
export const RELATIONSHIP_TYPES = ['Patient', 'CareTeam', 'EpisodeOfCare', 'Encounter', 'ServiceRequest', 'Consent'] as const;

/** A person's ids and their access epoch (decision-cache.ts), read in one snapshot. */
export interface PersonAndEpoch {
  /** Every source record of the person (and the person-level Patient), sorted. */
  readonly personIds: readonly string[];
  readonly epoch: string;
}

export interface PersonRecord extends PersonAndEpoch {
  /** Read after the ids and epoch: a change between the two moves the epoch, so nothing is missed. */
  readonly resources: readonly Resource[];
}

interface PersonRow {
  golden_id: string | null;
  members: string[] | null;
  epoch: string;
}

/** The person of the patient id expression given, and their epoch: a link made after this statement moves the epoch. */
const personAndEpochSql = (patientId: string): string => `WITH person AS (${personOfPatientSql(patientId)} LIMIT 1)
  SELECT p.golden_id, p.members, ${epochOfIdsSql(`(array_append(coalesce(p.members, '{}'::text[]), p.golden_id) || ${patientId})`)} AS epoch
    FROM (SELECT 1) AS one LEFT JOIN person p ON TRUE`;

const personOfRow = (row: PersonRow | undefined, patientId: string): PersonAndEpoch => ({
  personIds: personIdsOf(row?.members ? { golden_id: row.golden_id, members: row.members } : undefined, patientId),
  epoch: row?.epoch ?? '0',
});

export async function readPersonAndEpoch(db: SqlClient, patientId: string): Promise<PersonAndEpoch> {
  const rows = await db.query<PersonRow>(personAndEpochSql('$1::text'), [patientId]);
  return personOfRow(rows.rows[0], patientId);
}

/** The person's record as the rules read it; `person` when its ids and epoch were read already. */
export async function loadPersonRecord(db: SqlClient, patientId: string, person?: PersonAndEpoch): Promise<PersonRecord> {
  const { personIds, epoch } = person ?? (await readPersonAndEpoch(db, patientId));
  const rows = await db.query<{ content: string }>(
    `SELECT content::text AS content FROM resource
      WHERE patient_ids && $1::text[] AND resource_type = ANY($2::text[])
      ORDER BY resource_type, id`,
    [personIds, [...RELATIONSHIP_TYPES]],
  );
  return { personIds, epoch, resources: rows.rows.map((r) => parseStoredResource(r.content)) };
}

/**
 * The patients a resource belongs to (its compartment; [] for directory resources), with the
 * person of the first of them and their epoch in the same statement, so that a remembered
 * decision about them needs no statement of its own.
 */
export async function compartmentOf(db: SqlClient, resourceType: string, id: string): Promise<{ patientIds: string[]; first?: PersonAndEpoch } | undefined> {
  const rows = await db.query<PersonRow & { patient_ids: string[] }>(
    `WITH r AS (SELECT patient_ids FROM resource WHERE resource_type = $1 AND id = $2)
     SELECT r.patient_ids, f.golden_id, f.members, f.epoch FROM r
       LEFT JOIN LATERAL (${personAndEpochSql('r.patient_ids[1]')}) f ON cardinality(r.patient_ids) > 0`,
    [resourceType, id],
  );
  const row = rows.rows[0];
  if (!row) return undefined;
  const first = row.patient_ids[0];
  return { patientIds: row.patient_ids, ...(first !== undefined ? { first: personOfRow(row, first) } : {}) };
}
