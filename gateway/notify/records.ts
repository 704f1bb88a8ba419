import type { CareTeam, Consent, Encounter, EpisodeOfCare, Patient, Resource } from '@medplum/fhirtypes';
import { eachReference } from '../fhir/references';
import type { SqlClient } from '../store/engine';
import { parseStoredResource } from '../store/resource-reader';

/**
 * Loads, for a batch of outbox events, what recipient resolution reads: each person's records
 * (every source's Patient, via identity linking: the same rule as gateway/identity/resolver.ts
 * samePersonIds, batched), their CareTeams, EpisodesOfCare and Consents (the person's decisions,
 * for the access check), the events' Encounters, and the resources those refer to (organisations,
 * teams, locations, two levels deep). A few set-based queries per batch, whatever its size.
 */

export interface PersonContext {
  readonly personKey: string;
  readonly patientIds: readonly string[];
  readonly patients: readonly Patient[];
  readonly careTeams: readonly CareTeam[];
  readonly episodesOfCare: readonly EpisodeOfCare[];
  readonly consents: readonly Consent[];
}

export interface BatchRecords {
  readonly person: (patientId: string) => PersonContext;
  readonly encounter: (id: string | null) => Encounter | undefined;
  readonly lookup: (reference: string) => Resource | undefined;
}

const key = (r: Resource): string => `${r.resourceType}/${r.id ?? ''}`;
const REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

function collectReferences(value: unknown, into: Set<string>): void {
  eachReference(value, (v) => {
    if (REFERENCE.test(v)) into.add(v);
  });
}

async function loadByKeys(db: SqlClient, keys: readonly string[]): Promise<Resource[]> {
  if (keys.length === 0) return [];
  const types: string[] = [];
  const ids: string[] = [];
  for (const k of keys) {
    const m = REFERENCE.exec(k);
    if (!m) continue;
    types.push(m[1] as string);
    ids.push(m[2] as string);
  }
  const rows = await db.query<{ content: string }>(
    `SELECT r.content::text AS content FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i`,
    [types, ids],
  );
  return rows.rows.map((r) => parseStoredResource(r.content));
}

export async function loadBatchRecords(db: SqlClient, events: readonly { patientId: string | null; encounterId: string | null }[]): Promise<BatchRecords> {
  const patientIds = [...new Set(events.map((e) => e.patientId).filter((p): p is string => !!p))];
  const persons = await db.query<{ patient_id: string; person_key: string; golden_id: string | null; members: string[] }>(
    `SELECT m.patient_id, m.person_key, p.golden_id, p.members FROM identity_member m JOIN identity_person p ON p.key = m.person_key WHERE m.patient_id = ANY($1::text[])`,
    [patientIds],
  );
  const personOf = new Map<string, { key: string; ids: string[] }>();
  for (const row of persons.rows) {
    personOf.set(row.patient_id, { key: row.person_key, ids: [...new Set([...(row.golden_id ? [row.golden_id] : []), ...row.members, row.patient_id])].sort() });
  }
  for (const id of patientIds) if (!personOf.has(id)) personOf.set(id, { key: id, ids: [id] });
  const allIds = [...new Set([...personOf.values()].flatMap((p) => p.ids))];
  const encounterIds = [...new Set(events.map((e) => e.encounterId).filter((e): e is string => !!e))];

  const resources = new Map<string, Resource>();
  const patientIdsOf = new Map<string, string[]>();
  const add = (r: Resource): void => {
    resources.set(key(r), r);
  };
  for (const r of await loadByKeys(db, [...allIds.map((id) => `Patient/${id}`), ...encounterIds.map((id) => `Encounter/${id}`)])) add(r);
  // Through the reference index (CareTeam.subject, EpisodeOfCare.patient, Consent.patient): an index
  // lookup per person, where an overlap test on patient_ids would scan every care team in the region.
  const teams = await db.query<{ content: string; patient_ids: string[] }>(
    `SELECT r.content::text AS content, r.patient_ids FROM resource r
      WHERE (r.resource_type, r.id) IN (
        SELECT DISTINCT x.resource_type, x.resource_id FROM sp_reference x
         WHERE x.target_type = 'Patient' AND x.target_id = ANY($1::text[]) AND x.resource_type IN ('CareTeam', 'EpisodeOfCare', 'Consent') AND x.code IN ('subject', 'patient'))`,
    [allIds],
  );
  // Consents are read by the access rules only: kept apart, their references not followed.
  const consentsOf = new Map<string, Consent[]>();
  for (const row of teams.rows) {
    const r = parseStoredResource(row.content);
    if (r.resourceType === 'Consent') {
      for (const id of row.patient_ids) consentsOf.set(id, [...(consentsOf.get(id) ?? []), r]);
      continue;
    }
    add(r);
    patientIdsOf.set(key(r), row.patient_ids);
  }
  // References two levels deep: a care team's organisation or team; an encounter's location, then its ward and hospital.
  for (let round = 0; round < 2; round++) {
    const wanted = new Set<string>();
    for (const r of resources.values()) collectReferences(r, wanted);
    const missing = [...wanted].filter((k) => !resources.has(k) && !k.startsWith('Patient/'));
    if (missing.length === 0) break;
    for (const r of await loadByKeys(db, missing)) add(r);
    // What was asked for and is not stored is not asked for again.
    for (const k of missing) if (!resources.has(k)) resources.set(k, { resourceType: 'Basic', id: '', code: {} });
  }
  const stored = (k: string): Resource | undefined => {
    const r = resources.get(k);
    return r && r.id ? r : undefined;
  };

  const contexts = new Map<string, PersonContext>();
  // Care teams and episodes by the patient ids they name, so each person finds theirs without a scan.
  const teamsOf = new Map<string, Resource[]>();
  for (const r of resources.values()) {
    if (r.resourceType !== 'CareTeam' && r.resourceType !== 'EpisodeOfCare') continue;
    for (const id of patientIdsOf.get(key(r)) ?? []) teamsOf.set(id, [...(teamsOf.get(id) ?? []), r]);
  }
  return {
    person: (patientId: string): PersonContext => {
      const person = personOf.get(patientId) ?? { key: patientId, ids: [patientId] };
      const cached = contexts.get(person.key);
      if (cached) return cached;
      const mine = [...new Set(person.ids.flatMap((id) => teamsOf.get(id) ?? []))];
      const context: PersonContext = {
        personKey: person.key,
        patientIds: person.ids,
        patients: person.ids.map((id) => stored(`Patient/${id}`)).filter((p): p is Patient => p !== undefined),
        careTeams: mine.filter((t): t is CareTeam => t.resourceType === 'CareTeam'),
        episodesOfCare: mine.filter((t): t is EpisodeOfCare => t.resourceType === 'EpisodeOfCare'),
        consents: [...new Set(person.ids.flatMap((id) => consentsOf.get(id) ?? []))],
      };
      contexts.set(person.key, context);
      return context;
    },
    encounter: (id) => (id ? (stored(`Encounter/${id}`) as Encounter | undefined) : undefined),
    lookup: stored,
  };
}
