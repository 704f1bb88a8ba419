import type { Patient, Reference } from '@medplum/fhirtypes';
import { KEPT_REGISTRATION_DETAILS } from '../gp/extensions';
import { isPersonLevelRecord } from '../identifiers';

function registrationEnded(patient: Patient, now: Date): boolean {
  const period = patient.extension?.find((e) => e.url === KEPT_REGISTRATION_DETAILS)?.extension?.find((e) => e.url === 'registrationPeriod')?.valuePeriod;
  const end = period?.end ? Date.parse(period.end) : Number.NaN;
  return !Number.isNaN(end) && end <= now.getTime();
}

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
 *    registrationPeriod.end passed): it says the person has left, not where they went.
 *
 * Records changed at the same instant (or with no lastUpdated, as in hand-built records) all count:
 * these are the records whose generalPractitioner is believed now.
 */
export function registrationRecords(patients: readonly Patient[], now: Date): Patient[] {
  const naming = patients.filter((p) => !isPersonLevelRecord(p) && p.active !== false && (p.generalPractitioner?.length ?? 0) > 0);
  const stating = naming.filter((p) => !registrationEnded(p, now));
  const changed = (p: Patient): number => {
    const t = Date.parse(p.meta?.lastUpdated ?? '');
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const latest = Math.max(...stating.map(changed));
  return stating.filter((p) => changed(p) === latest);
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
