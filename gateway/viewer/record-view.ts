import type { CodeableConcept, Encounter, Extension, HumanName, Identifier, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import { registeredGeneralPractitioners } from '../../mappings/identity/registered-practice';
import { CARE_HOME_RESIDENCE_EXTENSION } from '../../mappings/identifiers';

/**
 * The record page's content, from what the access rules let the user see: a banner (who, where
 * they are now), then sections in the order a clinician at the bedside needs them. Every item says
 * which organisation it came from and when it was last updated. Pure: resources in, view out.
 */
export interface ViewItem {
  readonly title: string;
  readonly detail?: string;
  readonly status?: string;
  readonly date?: string;
  readonly source: string;
  readonly updated?: string;
}

export interface ViewSection {
  readonly id: string;
  readonly title: string;
  readonly items: readonly ViewItem[];
  readonly empty: string;
}

export interface Banner {
  readonly name: string;
  readonly birthDate?: string;
  readonly nhsNumber?: string;
  readonly address?: string;
  readonly gp?: string;
  readonly whereNow: string;
}

export interface RecordView {
  readonly banner: Banner;
  readonly sections: readonly ViewSection[];
}

export function conceptText(concept: CodeableConcept | undefined): string {
  if (!concept) return '';
  return concept.text ?? concept.coding?.find((c) => c.display)?.display ?? concept.coding?.[0]?.code ?? '';
}

function nameText(names: readonly HumanName[] | undefined): string {
  const name = names?.find((n) => n.use === 'official') ?? names?.[0];
  if (!name) return 'Name not recorded';
  if (name.text) return name.text;
  const family = (name.family ?? '').toUpperCase();
  return [family, ...(name.given ?? [])].filter(Boolean).join(', ').replace(/, /, ', ');
}

const byId = (resources: readonly Resource[]): Map<string, Resource> => new Map(resources.map((r) => [`${r.resourceType}/${r.id ?? ''}`, r]));

function referenceText(ref: Reference | undefined, index: Map<string, Resource>): string {
  if (!ref) return '';
  if (ref.display) return ref.display;
  const target = ref.reference ? index.get(ref.reference) : undefined;
  if (target && 'name' in target) {
    const name = (target as { name?: unknown }).name;
    if (typeof name === 'string') return name;
    if (Array.isArray(name)) return nameText(name as HumanName[]);
  }
  return ref.identifier?.value ?? '';
}

function statusOf(resource: Resource): string | undefined {
  const r = resource as { status?: unknown; clinicalStatus?: CodeableConcept };
  if (r.clinicalStatus) return conceptText(r.clinicalStatus);
  return typeof r.status === 'string' ? r.status : undefined;
}

type Describe = (resource: Resource, index: Map<string, Resource>) => Omit<ViewItem, 'source' | 'updated'>;

const describe: Partial<Record<Resource['resourceType'], Describe>> = {
  Flag: (r) => ({ title: conceptText((r as { code?: CodeableConcept }).code), status: statusOf(r) }),
  Condition: (r) => ({ title: conceptText((r as { code?: CodeableConcept }).code), status: statusOf(r), date: (r as { onsetDateTime?: string; recordedDate?: string }).onsetDateTime ?? (r as { recordedDate?: string }).recordedDate }),
  AllergyIntolerance: (r) => ({ title: conceptText((r as { code?: CodeableConcept }).code), status: statusOf(r), date: (r as { recordedDate?: string }).recordedDate }),
  MedicationStatement: (r) => ({ title: conceptText((r as { medicationCodeableConcept?: CodeableConcept }).medicationCodeableConcept) || 'Medication', detail: (r as { dosage?: { text?: string }[] }).dosage?.[0]?.text, status: statusOf(r) }),
  MedicationRequest: (r) => ({ title: conceptText((r as { medicationCodeableConcept?: CodeableConcept }).medicationCodeableConcept) || 'Medication', detail: (r as { dosageInstruction?: { text?: string }[] }).dosageInstruction?.[0]?.text, status: statusOf(r), date: (r as { authoredOn?: string }).authoredOn }),
  CareTeam: (r, index) => {
    const team = r as { name?: string; participant?: { role?: CodeableConcept[]; member?: Reference; onBehalfOf?: Reference }[]; telecom?: { value?: string }[] };
    const people = (team.participant ?? []).map((p) => [referenceText(p.member, index), conceptText(p.role?.[0])].filter(Boolean).join(' (') + (p.role?.[0] ? ')' : ''));
    return { title: team.name ?? 'Care team', detail: [people.join('; '), team.telecom?.map((t) => t.value).filter(Boolean).join(', ')].filter(Boolean).join(' · '), status: statusOf(r) };
  },
  EpisodeOfCare: (r, index) => ({ title: `Open case: ${referenceText((r as { managingOrganization?: Reference }).managingOrganization, index) || 'social care'}`, status: statusOf(r), date: (r as { period?: { start?: string } }).period?.start }),
  CarePlan: (r) => {
    const plan = r as { title?: string; description?: string; category?: CodeableConcept[]; activity?: { detail?: { code?: CodeableConcept; description?: string; status?: string; statusReason?: CodeableConcept } }[]; period?: { start?: string } };
    const activities = (plan.activity ?? []).map((a) => [conceptText(a.detail?.code) || a.detail?.description, a.detail?.status === 'on-hold' ? `suspended${a.detail.statusReason ? `: ${conceptText(a.detail.statusReason)}` : ''}` : undefined].filter(Boolean).join(', '));
    return { title: plan.title ?? (conceptText(plan.category?.[0]) || 'Plan'), detail: [plan.description, activities.join('; ')].filter(Boolean).join(' · '), status: statusOf(r), date: plan.period?.start };
  },
  Consent: (r) => ({ title: conceptText((r as { category?: CodeableConcept[] }).category?.[0]) || 'Decision', status: statusOf(r), date: (r as { dateTime?: string }).dateTime }),
  ServiceRequest: (r) => ({ title: conceptText((r as { code?: CodeableConcept }).code) || 'Referral', detail: (r as { reasonCode?: CodeableConcept[] }).reasonCode?.map(conceptText).join(', '), status: statusOf(r), date: (r as { authoredOn?: string }).authoredOn }),
  RiskAssessment: (r) => {
    const risk = r as { prediction?: { qualitativeRisk?: CodeableConcept }[]; occurrenceDateTime?: string; code?: CodeableConcept };
    return { title: `${conceptText(risk.code) || 'Risk rating'}: ${conceptText(risk.prediction?.[0]?.qualitativeRisk)}`, date: risk.occurrenceDateTime, status: statusOf(r) };
  },
  Task: (r) => ({ title: conceptText((r as { code?: CodeableConcept }).code) || 'Assessment', detail: (r as { description?: string }).description, status: statusOf(r), date: (r as { authoredOn?: string }).authoredOn }),
  Procedure: (r) => ({ title: conceptText((r as { code?: CodeableConcept }).code) || 'Procedure', detail: conceptText((r as { outcome?: CodeableConcept }).outcome), status: statusOf(r), date: (r as { performedDateTime?: string }).performedDateTime }),
  Encounter: (r, index) => {
    const e = r as Encounter;
    const where = e.location?.map((l) => referenceText(l.location, index)).filter(Boolean).join(', ');
    return { title: `${e.class.display ?? e.class.code ?? 'Encounter'}${where ? `: ${where}` : ''}`, detail: referenceText(e.serviceProvider, index), status: e.status, date: e.period?.start };
  },
  DocumentReference: (r) => ({ title: conceptText((r as { type?: CodeableConcept }).type) || (r as { description?: string }).description || 'Document', status: statusOf(r), date: (r as { date?: string }).date }),
  Composition: (r) => ({ title: (r as { title?: string }).title ?? 'Document', status: statusOf(r), date: (r as { date?: string }).date }),
  Observation: (r) => ({ title: conceptText((r as { code?: CodeableConcept }).code), detail: (r as { valueQuantity?: { value?: number; unit?: string } }).valueQuantity ? `${String((r as { valueQuantity: { value?: number } }).valueQuantity.value ?? '')} ${(r as { valueQuantity: { unit?: string } }).valueQuantity.unit ?? ''}` : undefined, date: (r as { effectiveDateTime?: string }).effectiveDateTime }),
};

const isCarePackage = (r: Resource): boolean => r.resourceType === 'CarePlan' && ((r as { category?: CodeableConcept[] }).category ?? []).some((c) => /care.?package/i.test(conceptText(c)) || c.coding?.some((k) => /care-package/i.test(k.code ?? '')));
const isAdvanceDecision = (r: Resource): boolean => r.resourceType === 'Consent' && ((r as { scope?: CodeableConcept }).scope?.coding ?? []).some((c) => c.code === 'adr');

interface SectionSpec {
  readonly id: string;
  readonly title: string;
  readonly empty: string;
  readonly matches: (r: Resource) => boolean;
}

/** What matters first: alerts, who to call, plans for a crisis, then the clinical summary, social care, events, documents. */
const SECTIONS: readonly SectionSpec[] = [
  { id: 'alerts', title: 'Alerts', empty: 'No alerts recorded.', matches: (r) => r.resourceType === 'Flag' },
  { id: 'care-team', title: 'Care co-ordinator and care team', empty: 'No care team recorded.', matches: (r) => r.resourceType === 'CareTeam' },
  { id: 'plans', title: 'Contingency, emergency and advance care plans', empty: 'No plans recorded.', matches: (r) => (r.resourceType === 'CarePlan' && !isCarePackage(r)) || isAdvanceDecision(r) },
  { id: 'problems', title: 'Problems', empty: 'No problems recorded.', matches: (r) => r.resourceType === 'Condition' },
  { id: 'medications', title: 'Medications', empty: 'No medications recorded.', matches: (r) => r.resourceType === 'MedicationStatement' || r.resourceType === 'MedicationRequest' },
  { id: 'allergies', title: 'Allergies', empty: 'No allergies recorded.', matches: (r) => r.resourceType === 'AllergyIntolerance' },
  { id: 'care-package', title: 'Care package and services', empty: 'No care package recorded.', matches: isCarePackage },
  { id: 'social-care', title: 'Social care: allocations, referrals, assessments, risk rating', empty: 'No social care record.', matches: (r) => ['EpisodeOfCare', 'ServiceRequest', 'RiskAssessment', 'Task', 'Procedure'].includes(r.resourceType) },
  { id: 'encounters', title: 'Hospital and care timeline', empty: 'No encounters recorded.', matches: (r) => r.resourceType === 'Encounter' },
  { id: 'observations', title: 'Observations and results', empty: 'No observations recorded.', matches: (r) => r.resourceType === 'Observation' },
  { id: 'documents', title: 'Documents: discharge summaries and passports', empty: 'No documents.', matches: (r) => r.resourceType === 'DocumentReference' || r.resourceType === 'Composition' },
];

function whereNow(patients: readonly Patient[], encounters: readonly Encounter[], index: Map<string, Resource>): string {
  const open = encounters.filter((e) => e.status === 'in-progress' && ['IMP', 'EMER', 'ACUTE'].includes(e.class.code ?? '')).sort((a, b) => (b.period?.start ?? '').localeCompare(a.period?.start ?? ''))[0];
  if (open) {
    const ward = open.location?.map((l) => referenceText(l.location, index)).filter(Boolean)[0];
    return `In hospital${ward ? ` on ${ward}` : ''}${open.period?.start ? ` since ${open.period.start}` : ''}`;
  }
  const residence = patients.flatMap((p) => p.extension ?? []).find((e: Extension) => e.url === CARE_HOME_RESIDENCE_EXTENSION);
  if (residence) return `In a care home: ${referenceText(residence.valueReference, index) || 'care home'}`;
  return 'At home';
}

function sortKey(item: ViewItem): string {
  return item.date ?? item.updated ?? '';
}

export function buildRecordView(patientId: string, resources: readonly Resource[], sourceNameOf: (source: string | undefined) => string, now: Date = new Date()): RecordView {
  // A record has a handful of sources and hundreds of items: each source named once per page.
  const names = new Map<string | undefined, string>();
  const sourceName = (source: string | undefined): string => {
    let name = names.get(source);
    if (name === undefined) {
      name = sourceNameOf(source);
      names.set(source, name);
    }
    return name;
  };
  const index = byId(resources);
  const patients = resources.filter((r): r is Patient => r.resourceType === 'Patient');
  const primary = patients.find((p) => p.id === patientId) ?? patients[0];
  const nhs = patients.flatMap((p) => p.identifier ?? []).find((i: Identifier) => i.system === NHS_NUMBER_SYSTEM)?.value;
  const address = primary?.address?.[0];
  // The practice registered with now: after a move, the one the person moved to, not the one they left.
  const gp = registeredGeneralPractitioners(patients, now).map((r) => referenceText(r, index)).find(Boolean);
  const encounters = resources.filter((r): r is Encounter => r.resourceType === 'Encounter');
  const banner: Banner = {
    name: nameText(primary?.name),
    ...(primary?.birthDate ? { birthDate: primary.birthDate } : {}),
    ...(nhs ? { nhsNumber: nhs } : {}),
    ...(address ? { address: [...(address.line ?? []), address.city, address.postalCode].filter(Boolean).join(', ') } : {}),
    ...(gp ? { gp } : {}),
    whereNow: whereNow(patients, encounters, index),
  };
  const sections = SECTIONS.map((spec) => {
    const items = resources
      .filter(spec.matches)
      .map((r): ViewItem => {
        const d = describe[r.resourceType]?.(r, index) ?? { title: r.resourceType };
        return { ...d, title: d.title || r.resourceType, source: sourceName(r.meta?.source), ...(r.meta?.lastUpdated ? { updated: r.meta.lastUpdated } : {}) };
      })
      .sort((a, b) => sortKey(b).localeCompare(sortKey(a)));
    return { id: spec.id, title: spec.title, empty: spec.empty, items };
  });
  return { banner, sections };
}
