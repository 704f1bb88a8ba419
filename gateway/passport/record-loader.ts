import type { Resource } from '@medplum/fhirtypes';
import { isGolden } from '../identity/golden';
import type { Patient } from '@medplum/fhirtypes';
import type { SqlClient } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';

/**
 * What a passport is built from: every resource in the compartment of any of the person's source
 * records, and the organisations, practitioners and wards they refer to. Read with the gateway's
 * own rights, because the passport is issued by the gateway for its audience: each reader then
 * gets the copy the access rules allow (service.ts), and both the issue and every read are audited.
 */

const DIRECTORY_TYPES = ['Organization', 'Practitioner', 'PractitionerRole', 'Location', 'HealthcareService'];

function directoryRefs(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) directoryRefs(v, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'reference' && typeof inner === 'string') {
        const [type, id] = inner.split('/');
        if (type && id && DIRECTORY_TYPES.includes(type)) found.add(inner);
      } else directoryRefs(inner, found);
    }
  }
}

export async function loadPassportRecord(db: SqlClient, personIds: readonly string[]): Promise<Resource[]> {
  const rows = await db.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE patient_ids && $1::text[] ORDER BY resource_type, id`, [personIds]);
  const record = rows.rows.map((r) => parseStoredResource(r.content));
  const refs = new Set<string>();
  directoryRefs(record, refs);
  // Two levels: a ward's managing organisation, a team's parent council.
  for (let level = 0; level < 2 && refs.size > 0; level++) {
    const wanted = [...refs].filter((r) => !record.some((x) => `${x.resourceType}/${x.id ?? ''}` === r));
    if (wanted.length === 0) break;
    const found = await db.query<{ content: string }>(
      `SELECT r.content::text AS content FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i`,
      [wanted.map((w) => w.split('/')[0] ?? ''), wanted.map((w) => w.split('/')[1] ?? '')],
    );
    const more = found.rows.map((r) => parseStoredResource(r.content));
    record.push(...more);
    refs.clear();
    directoryRefs(more, refs);
  }
  return record;
}

/** The person as the passport names them: the person-level record where identity has made one, else the record asked for. */
export function passportSubject(record: readonly Resource[], patientId: string): Patient | undefined {
  const patients = record.filter((r): r is Patient => r.resourceType === 'Patient');
  return patients.find((p) => isGolden(p) && p.active !== false) ?? patients.find((p) => p.id === patientId);
}
