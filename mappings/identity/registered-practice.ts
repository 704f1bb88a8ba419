import type { Patient, Reference } from '@medplum/fhirtypes';
import { KEPT_REGISTRATION_DETAILS } from '../gp/extensions';
import { isPersonLevelRecord, ODS_ORGANIZATION_SYSTEM } from '../identifiers';

function registrationEnded(patient: Patient, now: Date): boolean {
  const period = patient.extension?.find((e) => e.url === KEPT_REGISTRATION_DETAILS)?.extension?.find((e) => e.url === 'registrationPeriod')?.valuePeriod;
  const end = period?.end ? Date.parse(period.end) : Number.NaN;
  return !Number.isNaN(end) && end <= now.getTime();
}

/** How a reference names a practice (an Organization), by reference and by ODS code, either one matching; none for a named GP. */
function practiceNames(gp: Reference): string[] {
  const byIdentifier = gp.identifier?.system === ODS_ORGANIZATION_SYSTEM && gp.identifier.value ? [`ods|${gp.identifier.value}`] : [];
  const byReference = gp.reference?.startsWith('Organization/') ? [`reference|${gp.reference}`] : [];
  return [...byReference, ...byIdentifier];
}

const changedAt = (p: Patient): number => {
  const t = Date.parse(p.meta?.lastUpdated ?? '');
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
};

/**
 * Which of a person's source records tell their registered GP practice now. Each source's Patient
 * names the practice that source believes the person is registered with
 * (Patient.generalPractitioner: the practice's own GP Connect record, a hospital's PD1, the
 * council's extract). After the person moves practice the sources disagree until each has caught
 * up, and a person is registered with one practice at a time, so the record that changed most
 * recently (meta.lastUpdated) is believed. A source sending an unchanged record again writes no new
 * version, so a source still naming the old practice does not win by sending it again.
 *
 * Left out:
 *  - person-level records (tagged `person`), which repeat one source's statement and are rebuilt
 *    whenever a source changes;
 *  - inactive records (a source's record merged into another);
 *  - a practice's own record whose registration has ended (GP Connect registration details,
 *    registrationPeriod.end passed): it says the person has left, not where they went. The
 *    practice is the authority on its own registrations, so another source's record naming that
 *    practice, changed no later than the practice said so, is left out too; one changed since (the
 *    person registered there again, say) is newer news and counts.
 *
 * Records changed at the same instant (or with no lastUpdated, as in hand-built records) all count:
 * these are the records whose generalPractitioner is believed now.
 */
export function registrationRecords(patients: readonly Patient[], now: Date): Patient[] {
  const naming = patients.filter((p) => !isPersonLevelRecord(p) && p.active !== false && (p.generalPractitioner?.length ?? 0) > 0);
  const ended = naming.filter((p) => registrationEnded(p, now));
  /** Each practice a registration has ended with, and when its record said so (the latest such). */
  const left = new Map<string, number>();
  for (const p of ended) for (const name of (p.generalPractitioner ?? []).flatMap(practiceNames)) left.set(name, Math.max(left.get(name) ?? Number.NEGATIVE_INFINITY, changedAt(p)));
  const vetoed = (p: Patient): boolean =>
    (p.generalPractitioner ?? []).flatMap(practiceNames).some((name) => {
      const saidLeft = left.get(name);
      return saidLeft !== undefined && changedAt(p) <= saidLeft;
    });
  const stating = naming.filter((p) => !ended.includes(p) && !vetoed(p));
  const latest = Math.max(...stating.map(changedAt));
  return stating.filter((p) => changedAt(p) === latest);
}

/** The registered practice (and named GPs) as the believed records give them, each reference once. */
export function registeredGeneralPractitioners(patients: readonly Patient[], now: Date): Reference[] {
  const seen = new Set<string>();
  const out: Reference[] = [];
  for (const p of registrationRecords(patients, now)) {
    for (const gp of p.generalPractitioner ?? []) {
      const key = JSON.stringify([gp.reference, gp.identifier?.system, gp.identifier?.value]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(gp);
    }
  }
  return out;
}
