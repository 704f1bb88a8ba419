import type {
  Bundle,
  CarePlan,
  Composition,
  CompositionSection,
  Condition,
  Device,
  DeviceRequest,
  DocumentReference,
  Encounter,
  Location,
  MedicationRequest,
  MedicationStatement,
  Patient,
  Procedure,
  Reference,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { PLANNED_END_EXTENSION } from '../hl7v2/tables/encounter';
import { rowsOf, type RowBuild, type SectionBuild } from './document';
import { MEDICATION_CHANGE_TEXT, medicationChanges, type DischargeMedication } from './medication-changes';
import { conceptText, formatDate, phoneOfReference, referenceText, refOf, sourceLine, type RecordIndex } from './record-text';

/**
 * The discharge passport's sections (specs/red-bag-passport.md, "Discharge passport"), built when
 * the hospital's discharge message arrives: the stay itself from the Encounter, and what the
 * hospital's discharge summary says (a FHIR eDischarge Composition, or an HL7 MDM document),
 * with medication changes computed against the transfer passport's list. Pure.
 */

/** PRSB headings as fhir-intake/document.ts names them (kept as strings: mappings/ cannot import gateway/). */
const SUMMARY_HEADINGS = {
  diagnoses: ['diagnoses', 'problems-and-issues'],
  procedures: ['procedures'],
  medications: ['medications-and-medical-devices', 'active-medications', 'discontinued-medications'],
  plan: ['plan-and-requested-actions', 'medical-follow-up'],
  information: ['information-and-advice-given', 'information-given'],
  summary: ['clinical-summary', 'clinical-narrative'],
} as const;
const RECORD_HEADINGS_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-RecordStandardHeadings';

export interface DischargeSummaries {
  /** The hospital's eDischarge Composition for this stay, as stored (entries resolve in the record). */
  readonly composition?: Composition;
  /** Discharge summaries sent as documents (HL7 MDM T02: text or PDF) for this stay. */
  readonly documents: readonly DocumentReference[];
}

export interface DischargeInput {
  readonly subject: Patient;
  readonly index: RecordIndex;
  readonly encounter: Encounter;
  readonly issuedAt: string;
  readonly sourceNames: Readonly<Record<string, string>>;
  /** The red bag's transfer passport (its latest version), when the person went in with one. */
  readonly transferPassport?: Bundle;
  readonly summaries: DischargeSummaries;
}

interface Ctx extends DischargeInput {
  row(label: string, value: string, from: readonly Resource[], date?: string): RowBuild;
  readonly hospitalSource: string | undefined;
  /** Resources from the transfer passport this document repeats (the medicines sent in). */
  readonly carried: Map<string, Resource>;
}

function headingSections(composition: Composition | undefined, codes: readonly string[]): CompositionSection[] {
  const out: CompositionSection[] = [];
  const walk = (sections: readonly CompositionSection[]): void => {
    for (const s of sections) {
      if (s.code?.coding?.some((c) => c.system === RECORD_HEADINGS_SYSTEM && codes.includes(c.code ?? ''))) out.push(s);
      walk(s.section ?? []);
    }
  };
  walk(composition?.section ?? []);
  return out;
}

const entriesOf = (sections: readonly CompositionSection[], index: RecordIndex): Resource[] => sections.flatMap((s) => (s.entry ?? []).map((e) => index.get(e)).filter((r): r is Resource => r !== undefined));
const narrativeText = (div: string | undefined): string => (div ?? '').replace(/<br\s*\/?>/gi, '\n').replace(/<\/(p|li|tr|h\d)>/gi, '\n').replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&').split('\n').map((l) => l.trim()).filter(Boolean).join('\n');

function documentText(d: DocumentReference): string | undefined {
  const attachment = d.content.find((c) => c.attachment.contentType?.startsWith('text/plain') && c.attachment.data)?.attachment;
  return attachment?.data ? Buffer.from(attachment.data, 'base64').toString('utf8') : undefined;
}

const duringStay = (ctx: Ctx, r: Resource & { encounter?: Reference }, date: string | undefined): boolean => {
  if (r.encounter?.reference === refOf(ctx.encounter)) return true;
  if (!ctx.hospitalSource || r.meta?.source !== ctx.hospitalSource || !date) return false;
  const start = ctx.encounter.period?.start;
  const end = ctx.encounter.period?.end ?? ctx.issuedAt;
  return start !== undefined && Date.parse(date) >= Date.parse(start) && Date.parse(date) <= Date.parse(end);
};

function admissionAndDischarge(ctx: Ctx): SectionBuild {
  const e = ctx.encounter;
  const rows: RowBuild[] = [];
  const ward = [...(e.location ?? [])].reverse().find((l) => l.location.reference || l.location.display);
  if (e.serviceProvider) rows.push(ctx.row('Hospital', referenceText(e.serviceProvider, ctx.index), [e]));
  if (ward) rows.push(ctx.row('Ward', referenceText(ward.location, ctx.index), [e]));
  rows.push(ctx.row('Admitted', formatDate(e.period?.start) || 'Not recorded', [e]));
  const planned = e.extension?.find((x) => x.url === PLANNED_END_EXTENSION)?.valueDateTime;
  rows.push(ctx.row('Discharged', e.period?.end ? formatDate(e.period.end) : `Not yet discharged${planned ? `; expected ${formatDate(planned)}` : ''}`, [e]));
  const clinician = e.participant?.find((p) => p.type?.some((t) => t.coding?.some((c) => c.code === 'ATND'))) ?? e.participant?.[0];
  if (clinician?.individual) rows.push(ctx.row('Responsible clinician', referenceText(clinician.individual, ctx.index), [e]));
  const destination = e.hospitalization?.dischargeDisposition;
  if (destination) rows.push(ctx.row('Discharged to', conceptText(destination), [e]));
  return { code: 'admission-discharge', title: 'Admission and discharge', emptyText: 'No details of the stay were received.', entries: [e], rows };
}

function diagnoses(ctx: Ctx): SectionBuild {
  const fromSummary = entriesOf(headingSections(ctx.summaries.composition, SUMMARY_HEADINGS.diagnoses), ctx.index).filter((r): r is Condition => r.resourceType === 'Condition');
  const fromEncounter = (ctx.encounter.diagnosis ?? []).map((d) => ctx.index.get(d.condition)).filter((r): r is Condition => r?.resourceType === 'Condition');
  const fromStay = ctx.index.ofType<Condition>('Condition').filter((c) => duringStay(ctx, c, c.recordedDate ?? c.onsetDateTime));
  const conditions = unique([...fromSummary, ...fromEncounter, ...fromStay]);
  const rows = conditions.map((c) => ctx.row(conceptText(c.code), [conceptText(c.clinicalStatus), conceptText(c.verificationStatus)].filter(Boolean).join(', ') || 'Diagnosed', [c], c.recordedDate ?? c.onsetDateTime));
  for (const d of ctx.summaries.documents) {
    for (const line of lines(documentText(d))) if (/^(diagnos|problem)/i.test(line)) rows.push(ctx.row('From the discharge summary', line, [d], d.date));
  }
  return { code: 'diagnoses', title: 'Diagnoses', emptyText: 'No diagnoses received from the hospital yet.', entries: [...conditions, ...ctx.summaries.documents], rows };
}

const lines = (text: string | undefined): string[] => (text ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
function unique<T extends Resource>(list: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const r of list) if (!seen.has(refOf(r))) seen.set(refOf(r), r);
  return [...seen.values()];
}

function whatWasDone(ctx: Ctx): SectionBuild {
  const procedures = unique([
    ...entriesOf(headingSections(ctx.summaries.composition, SUMMARY_HEADINGS.procedures), ctx.index).filter((r): r is Procedure => r.resourceType === 'Procedure'),
    ...ctx.index.ofType<Procedure>('Procedure').filter((p) => duringStay(ctx, p, p.performedDateTime ?? p.performedPeriod?.start)),
  ]);
  const rows = procedures.map((p) => ctx.row(conceptText(p.code) || 'Procedure', [formatDate(p.performedDateTime ?? p.performedPeriod?.start), conceptText(p.outcome)].filter(Boolean).join('; ') || 'Done', [p], p.performedDateTime));
  const summary = headingSections(ctx.summaries.composition, SUMMARY_HEADINGS.summary);
  for (const s of summary) {
    const text = narrativeText(s.text?.div);
    if (text && ctx.summaries.composition) rows.push(ctx.row(s.title ?? 'Clinical summary', text, [ctx.summaries.composition], ctx.summaries.composition.date));
  }
  for (const d of ctx.summaries.documents) {
    const text = documentText(d);
    if (text) {
      const body = lines(text).filter((l) => !/^(diagnos|problem|follow|plan|advice|gp\b)/i.test(l));
      if (body.length > 0) rows.push(ctx.row(d.description ?? 'Discharge summary', body.join('\n'), [d], d.date));
    } else if (d.content.some((c) => c.attachment.contentType === 'application/pdf')) {
      rows.push(ctx.row(d.description ?? 'Discharge summary', 'Sent as a PDF: open it from the person\'s documents in CareBridge', [d], d.date));
    }
  }
  return { code: 'what-was-done', title: 'What was done', emptyText: 'No account of the stay received from the hospital yet.', entries: [...procedures, ...(summary.length > 0 && ctx.summaries.composition ? [ctx.summaries.composition] : []), ...ctx.summaries.documents], rows };
}

const isMedication = (r: Resource | undefined): r is DischargeMedication => r?.resourceType === 'MedicationStatement' || r?.resourceType === 'MedicationRequest';

function medicationsSentIn(passport: Bundle | undefined): DischargeMedication[] {
  const composition = passport?.entry?.[0]?.resource as Composition | undefined;
  const section = composition?.section?.find((s) => s.code?.coding?.some((c) => c.code === 'medications-allergies'));
  const refs = new Set((section?.entry ?? []).map((e) => e.reference ?? ''));
  return (passport?.entry ?? []).map((e) => e.resource).filter((r): r is DischargeMedication => isMedication(r) && refs.has(refOf(r)));
}

function medicationChangesSection(ctx: Ctx): SectionBuild {
  const fromSummary = entriesOf(headingSections(ctx.summaries.composition, SUMMARY_HEADINGS.medications), ctx.index).filter(isMedication);
  const fromStay = [
    ...ctx.index.ofType<MedicationRequest>('MedicationRequest').filter((m) => duringStay(ctx, m, m.authoredOn)),
    ...ctx.index.ofType<MedicationStatement>('MedicationStatement').filter((m) => m.context?.reference === refOf(ctx.encounter)),
  ];
  const after = fromSummary.length > 0 ? fromSummary : fromStay;
  const before = medicationsSentIn(ctx.transferPassport);
  for (const b of before) if (!ctx.carried.has(refOf(b))) ctx.carried.set(refOf(b), b);
  const byRef = new Map<string, Resource>([...before, ...after].map((r) => [refOf(r), r]));
  const rows: RowBuild[] = [];
  if (after.length === 0) {
    rows.push(ctx.row('Discharge medication list', 'Not received from the hospital: check the medicines that came back against the list sent in, and ask the ward', []));
  } else {
    if (!ctx.transferPassport) rows.push(ctx.row('Medicines sent in', 'No transfer passport: the changes below are against nothing; every medicine is listed as started', []));
    for (const change of medicationChanges(before, after)) {
      const detail = [change.before && change.after ? `from ${change.before} to ${change.after}` : (change.after ?? change.before ?? ''), change.reason ? `reason: ${change.reason}` : ''].filter(Boolean).join('; ');
      const from = change.entries.map((r) => byRef.get(r)).filter((r): r is Resource => r !== undefined);
      rows.push(ctx.row(`${MEDICATION_CHANGE_TEXT[change.kind]}: ${change.name}`, detail || '—', [...from].reverse()));
    }
  }
  return { code: 'medication-changes', title: 'Medication changes', emptyText: 'No medicines.', entries: unique([...before, ...after]), rows };
}

const mentionsGp = (text: string): boolean => /\bGP\b|general practi|surgery/i.test(text);

function followUp(ctx: Ctx, forGp: boolean): SectionBuild {
  const plan = headingSections(ctx.summaries.composition, [...SUMMARY_HEADINGS.plan, ...SUMMARY_HEADINGS.information]);
  const rows: RowBuild[] = [];
  const entries: Resource[] = [];
  for (const s of plan) {
    const items = entriesOf([s], ctx.index);
    for (const r of items) {
      const text = r.resourceType === 'CarePlan' ? [(r).title, (r).description, ...((r).activity ?? []).map((a) => a.detail?.description ?? conceptText(a.detail?.code))].filter(Boolean).join('; ') : r.resourceType === 'ServiceRequest' ? [conceptText((r).code), (r).note?.map((n) => n.text).join(' ')].filter(Boolean).join('; ') : '';
      if (!text || mentionsGp(text) !== forGp) continue;
      entries.push(r);
      rows.push(ctx.row(s.title ?? 'Follow-up', text, [r]));
    }
    for (const line of lines(narrativeText(s.text?.div))) {
      if (mentionsGp(line) !== forGp || !ctx.summaries.composition) continue;
      rows.push(ctx.row(s.title ?? 'Follow-up', line, [ctx.summaries.composition], ctx.summaries.composition.date));
    }
  }
  for (const d of ctx.summaries.documents) {
    for (const line of lines(documentText(d))) if (/^(follow|plan|advice)/i.test(line) && mentionsGp(line) === forGp) rows.push(ctx.row('From the discharge summary', line, [d], d.date));
  }
  const who = forGp ? 'GP' : 'care home';
  return {
    code: forGp ? 'follow-up-gp' : 'follow-up-care-home',
    title: forGp ? 'Follow-up for the GP' : 'Follow-up for the care home',
    emptyText: ctx.summaries.composition || ctx.summaries.documents.length > 0 ? `No follow-up for the ${who} in the discharge summary.` : `No discharge summary received yet: follow-up for the ${who} not known.`,
    entries: unique([...entries, ...(rows.some((r) => r.entries.includes(refOf(ctx.summaries.composition ?? { resourceType: 'Composition' }))) && ctx.summaries.composition ? [ctx.summaries.composition] : []), ...ctx.summaries.documents.filter((d) => rows.some((r) => r.entries.includes(refOf(d))))]),
    rows,
  };
}

function equipmentAndCare(ctx: Ctx): SectionBuild {
  const rows: RowBuild[] = [];
  const devices = [
    ...ctx.index.ofType<DeviceRequest>('DeviceRequest').filter((d) => duringStay(ctx, d, d.authoredOn)),
    ...ctx.index.ofType<ServiceRequest>('ServiceRequest').filter((s) => duringStay(ctx, s, s.authoredOn) && s.category?.some((c) => c.coding?.some((k) => k.code === 'equipment'))),
  ];
  for (const d of devices) {
    const name = d.resourceType === 'DeviceRequest' ? (conceptText(d.codeCodeableConcept) || (ctx.index.get(d.codeReference) as Device | undefined)?.deviceName?.[0]?.name || 'Equipment') : conceptText(d.code);
    rows.push(ctx.row('Equipment', name, [d], d.authoredOn));
  }
  const packages = ctx.index.ofType<CarePlan>('CarePlan').filter((p) => (p.status === 'active' || p.status === 'on-hold') && (p.category ?? []).some((c) => c.coding?.some((k) => /care-package/i.test(k.code ?? ''))));
  for (const plan of packages) {
    for (const a of plan.activity ?? []) {
      const what = conceptText(a.detail?.code) || a.detail?.description || 'Service';
      rows.push(ctx.row(what, a.detail?.status === 'on-hold' ? 'Suspended while in hospital: to restart on discharge' : 'In place', [plan], plan.period?.start));
    }
  }
  return { code: 'equipment-care-needs', title: 'Equipment and care needs now', emptyText: 'No equipment or care needs recorded for discharge.', entries: [...devices, ...packages], rows };
}

function itemsReturned(ctx: Ctx): SectionBuild {
  const composition = ctx.transferPassport?.entry?.[0]?.resource as Composition | undefined;
  const section = composition?.section?.find((s) => s.code?.coding?.some((c) => c.code === 'items-sent'));
  const sent = section ? rowsOf(section) : [];
  const list = (ctx.transferPassport?.entry ?? []).map((e) => e.resource).find((r) => r?.resourceType === 'List');
  if (list) ctx.carried.set(refOf(list), list);
  const rows = sent.map((r) => ctx.row(r.value, 'Sent in the red bag: check it has come back', list ? [list] : []));
  return { code: 'items-returned', title: 'Items to come back', emptyText: ctx.transferPassport ? 'Nothing was recorded as sent.' : 'No transfer passport: nothing was recorded as sent.', entries: list ? [list] : [], rows };
}

function whoToCall(ctx: Ctx): SectionBuild {
  const e = ctx.encounter;
  const rows: RowBuild[] = [];
  const entries: Resource[] = [e];
  const ward = [...(e.location ?? [])].reverse().find((l) => l.location.reference || l.location.display)?.location;
  if (ward) {
    const location = ctx.index.get(ward) as Location | undefined;
    if (location) entries.push(location);
    rows.push(ctx.row('Ward', [referenceText(ward, ctx.index), phoneOfReference(ward, ctx.index)].filter(Boolean).join(', '), location ? [location] : [e]));
  }
  if (e.serviceProvider) rows.push(ctx.row('Hospital', [referenceText(e.serviceProvider, ctx.index), phoneOfReference(e.serviceProvider, ctx.index)].filter(Boolean).join(', '), [e]));
  const clinician = e.participant?.find((p) => p.type?.some((t) => t.coding?.some((c) => c.code === 'ATND'))) ?? e.participant?.[0];
  if (clinician?.individual) rows.push(ctx.row('Responsible clinician', [referenceText(clinician.individual, ctx.index), phoneOfReference(clinician.individual, ctx.index)].filter(Boolean).join(', '), [e]));
  return { code: 'who-to-call', title: 'Who to call with questions', emptyText: 'No contact given by the hospital.', entries, rows };
}

export function dischargeSections(input: DischargeInput): { sections: SectionBuild[]; carried: Resource[] } {
  const carried = new Map<string, Resource>();
  const ctx: Ctx = {
    ...input,
    hospitalSource: input.encounter.meta?.source,
    carried,
    row: (label, value, from, date) => {
      const first = from[0];
      const source = first ? sourceLine(first, input.sourceNames, date) : undefined;
      return { label, value, ...(source ? { source } : {}), entries: [...new Set(from.map(refOf))] };
    },
  };
  const sections = [admissionAndDischarge(ctx), diagnoses(ctx), whatWasDone(ctx), medicationChangesSection(ctx), followUp(ctx, false), followUp(ctx, true), equipmentAndCare(ctx), itemsReturned(ctx), whoToCall(ctx)];
  return { sections, carried: [...carried.values()] };
}
