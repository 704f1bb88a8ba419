import type { Resource } from '@medplum/fhirtypes';
import { samePersonIds } from '../identity/resolver';
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
}

export async function loadPersonRecord(db: SqlClient, patientId: string): Promise<PersonRecord> {
  const personIds = await samePersonIds(db, patientId);
  const rows = await db.query<{ content: string }>(
    `SELECT content::text AS content FROM resource
      WHERE patient_ids && $1::text[] AND resource_type = ANY($2::text[])
      ORDER BY resource_type, id`,
    [personIds, [...RELATIONSHIP_TYPES]],
  );
  return { personIds, resources: rows.rows.map((r) => parseStoredResource(r.content)) };
}

/** The patients a resource belongs to (its compartment), or [] for directory resources. */
export async function compartmentOf(db: SqlClient, resourceType: string, id: string): Promise<string[] | undefined> {
  const rows = await db.query<{ patient_ids: string[] }>('SELECT patient_ids FROM resource WHERE resource_type = $1 AND id = $2', [resourceType, id]);
  return rows.rows[0]?.patient_ids;
}
