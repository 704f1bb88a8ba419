import type { Extension, MedicationRequest, MedicationStatement } from '@medplum/fhirtypes';
import { SNOMED } from './codes';
import { conceptText, refOf } from './record-text';

/**
 * Medication changes on discharge: what the person went into hospital on (the transfer passport's
 * list) against what the hospital sends them home on (the discharge medication list). Matching is
 * by SNOMED CT code, else by the medicine's name (its first word, the drug, when the strengths are
 * written differently). A medicine sent in but missing from the discharge list is not called
 * stopped: the hospital did not say so, and a silent omission is the classic discharge error, so
 * it is listed for the care home to check. Pure.
 */

export type DischargeMedication = MedicationStatement | MedicationRequest;

export const MedicationChangeKind = {
  STARTED: 'started',
  STOPPED: 'stopped',
  CHANGED: 'changed',
  ON_HOLD: 'on-hold',
  UNCHANGED: 'unchanged',
  NOT_ON_DISCHARGE_LIST: 'not-on-discharge-list',
} as const;
export type MedicationChangeKind = (typeof MedicationChangeKind)[keyof typeof MedicationChangeKind];

export const MEDICATION_CHANGE_TEXT: Readonly<Record<MedicationChangeKind, string>> = {
  started: 'Started',
  stopped: 'Stopped',
  changed: 'Changed',
  'on-hold': 'On hold',
  unchanged: 'Unchanged',
  'not-on-discharge-list': 'Not on the discharge list: check with the ward',
};

export interface MedicationChange {
  readonly kind: MedicationChangeKind;
  readonly name: string;
  readonly before?: string;
  readonly after?: string;
  readonly reason?: string;
  /** The entries ('Type/id') the change was read from: before, after, or both. */
  readonly entries: readonly string[];
}

/** UK Core's change summary on a medication (status added | amended | continued | on-hold, indication, details). */
export const CHANGE_SUMMARY_EXTENSION = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationChangeSummary';

const nameOf = (m: DischargeMedication): string => conceptText(m.medicationCodeableConcept) || m.medicationReference?.display || 'Medication';
const doseOf = (m: DischargeMedication): string => (m.resourceType === 'MedicationStatement' ? m.dosage?.[0]?.text : m.dosageInstruction?.[0]?.text) ?? '';
const codeOf = (m: DischargeMedication): string | undefined => m.medicationCodeableConcept?.coding?.find((c) => c.system === SNOMED)?.code;
const drugWord = (name: string): string => name.toLowerCase().replace(/[^a-z0-9 ]+/g, ' ').trim().split(/\s+/)[0] ?? '';

function changeSummary(m: DischargeMedication): { status?: string; reason?: string } {
  const ext = m.extension?.find((e: Extension) => e.url === CHANGE_SUMMARY_EXTENSION);
  const part = (url: string): Extension | undefined => ext?.extension?.find((e) => e.url === url);
  const reason = [conceptText(part('indicationForChange')?.valueCodeableConcept), part('detailsOfAmendment')?.valueString].filter(Boolean).join(': ');
  const status = part('status')?.valueCoding?.code;
  return { ...(status ? { status } : {}), ...(reason ? { reason } : {}) };
}

function reasonOf(m: DischargeMedication): string | undefined {
  const parts = [changeSummary(m).reason, m.statusReason ? (Array.isArray(m.statusReason) ? (m.statusReason as { text?: string }[]).map((r) => conceptText(r)).join(', ') : conceptText(m.statusReason)) : '', m.note?.map((n) => n.text).join(' ')].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

const isStopped = (m: DischargeMedication): boolean => m.status === 'stopped' || m.status === 'completed' || m.status === 'cancelled' || m.status === 'not-taken';

function sameMedicine(a: DischargeMedication, b: DischargeMedication): boolean {
  const ca = codeOf(a);
  const cb = codeOf(b);
  if (ca && cb) return ca === cb || (drugWord(nameOf(a)) !== '' && drugWord(nameOf(a)) === drugWord(nameOf(b)));
  return drugWord(nameOf(a)) !== '' && drugWord(nameOf(a)) === drugWord(nameOf(b));
}

export function medicationChanges(before: readonly DischargeMedication[], after: readonly DischargeMedication[]): MedicationChange[] {
  const changes: MedicationChange[] = [];
  const matched = new Set<DischargeMedication>();
  for (const m of after) {
    if (m.status === 'entered-in-error') continue;
    const earlier = before.find((b) => !matched.has(b) && sameMedicine(b, m));
    if (earlier) matched.add(earlier);
    const summary = changeSummary(m);
    const reason = reasonOf(m);
    const entries = earlier ? [refOf(earlier), refOf(m)] : [refOf(m)];
    const base = { name: nameOf(m), entries, ...(reason ? { reason } : {}) };
    const beforeDose = earlier ? doseOf(earlier) : '';
    const afterDose = doseOf(m);
    if (isStopped(m)) changes.push({ ...base, kind: MedicationChangeKind.STOPPED, ...(beforeDose ? { before: beforeDose } : {}) });
    else if (m.status === 'on-hold' || summary.status === 'on-hold') changes.push({ ...base, kind: MedicationChangeKind.ON_HOLD, ...(afterDose ? { after: afterDose } : {}) });
    else if (!earlier) changes.push({ ...base, kind: MedicationChangeKind.STARTED, ...(afterDose ? { after: afterDose } : {}) });
    else if (summary.status === 'amended' || (beforeDose !== '' && afterDose !== '' && beforeDose.toLowerCase() !== afterDose.toLowerCase()) || (codeOf(earlier) && codeOf(m) && codeOf(earlier) !== codeOf(m))) {
      changes.push({ ...base, kind: MedicationChangeKind.CHANGED, before: [nameOf(earlier), beforeDose].filter(Boolean).join(', '), after: [nameOf(m), afterDose].filter(Boolean).join(', ') });
    } else changes.push({ ...base, kind: MedicationChangeKind.UNCHANGED, ...(afterDose || beforeDose ? { after: afterDose || beforeDose } : {}) });
  }
  for (const b of before) {
    if (!matched.has(b)) changes.push({ kind: MedicationChangeKind.NOT_ON_DISCHARGE_LIST, name: nameOf(b), ...(doseOf(b) ? { before: doseOf(b) } : {}), entries: [refOf(b)] });
  }
  const order: readonly MedicationChangeKind[] = ['started', 'stopped', 'changed', 'on-hold', 'not-on-discharge-list', 'unchanged'];
  return changes.sort((x, y) => order.indexOf(x.kind) - order.indexOf(y.kind) || x.name.localeCompare(y.name));
}
