import type { Resource } from '@medplum/fhirtypes';
import { PERSON_OF_PATIENT_SQL, personIdsOf } from '../identity/resolver';
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

export interface PersonRecord {
  /** Every source record of the person (and the person-level Patient), sorted. */
  readonly personIds: readonly string[];
  readonly resources: readonly Resource[];
  /** The person's access epoch (decision-cache.ts), read in the same snapshot as their ids, before their resources. */
  readonly epoch: string;
}

/** The person's ids and their access epoch, in one statement: a link made after it moves the epoch. */
const PERSON_AND_EPOCH_SQL = `WITH person AS (${PERSON_OF_PATIENT_SQL} LIMIT 1)
  SELECT p.golden_id, p.members, ${epochOfIdsSql("(array_append(coalesce(p.members, '{}'::text[]), p.golden_id) || $1::text)")} AS epoch
    FROM (SELECT 1) AS one LEFT JOIN person p ON TRUE`;

export async function loadPersonRecord(db: SqlClient, patientId: string): Promise<PersonRecord> {
  const person = await db.query<{ golden_id: string | null; members: string[] | null; epoch: string }>(PERSON_AND_EPOCH_SQL, [patientId]);
  const row = person.rows[0];
  const personIds = personIdsOf(row?.members ? { golden_id: row.golden_id, members: row.members } : undefined, patientId);
  const rows = await db.query<{ content: string }>(
    `SELECT content::text AS content FROM resource
      WHERE patient_ids && $1::text[] AND resource_type = ANY($2::text[])
      ORDER BY resource_type, id`,
    [personIds, [...RELATIONSHIP_TYPES]],
  );
  return { personIds, resources: rows.rows.map((r) => parseStoredResource(r.content)), epoch: row?.epoch ?? '0' };
}

/** The patients a resource belongs to (its compartment), or [] for directory resources. */
export async function compartmentOf(db: SqlClient, resourceType: string, id: string): Promise<string[] | undefined> {
  const rows = await db.query<{ patient_ids: string[] }>('SELECT patient_ids FROM resource WHERE resource_type = $1 AND id = $2', [resourceType, id]);
  return rows.rows[0]?.patient_ids;
}
