import type {
  AllergyIntolerance,
  CarePlan,
  CareTeam,
  Condition,
  Consent,
  DeviceUseStatement,
  DocumentReference,
  Extension,
  Flag,
  List,
  MedicationAdministration,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Organization,
  Patient,
  Practitioner,
  QuestionnaireResponse,
  RelatedPerson,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { NHS_NUMBER_SYSTEM } from '../identity/nhs-number';
import { registeredGeneralPractitioners } from '../identity/registered-practice';
import { CARE_HOME_RESIDENCE_EXTENSION } from '../identifiers';
import {
  ABOUT_ME_QUESTIONNAIRE,
  BASELINE_QUESTIONNAIRE,
  DOCUMENT_TYPE_SYSTEM,
  ITEMS_SENT_CODE,
  LEGAL_DECISION_MAKER_CODES,
  LOINC,
  NEWS2_CODE,
  NEXT_OF_KIN_CODES,
  ROLE_CODE_SYSTEM,
  SBAR_PART_EXTENSION,
  SNOMED,
  TIME_UNWELL_EXTENSION,
  TRANSFER_REQUEST_CATEGORY,
} from './codes';
import type { RowBuild, SectionBuild } from './document';
import { ageAt, conceptText, formatDate, formatNhsNumber, hasCode, isActiveStatus, personName, phoneOf, phoneOfReference, plainName, referenceText, refOf, sourceLine, type RecordIndex } from './record-text';

/**
 * The transfer passport's ten sections (specs/red-bag-passport.md, "Transfer passport"), each read
 * from the shared record plus the care home's transfer form. A section chooses its entries and
 * says, row by row, what it read from which entry. Pure.
 */

export interface TransferInput {
  /** The person as the passport names them (the person-level record where there is one). */
  readonly subject: Patient;
  /** Everything the passport may draw on: the person's record across sources, and the directory. */
  readonly index: RecordIndex;
  /** The care home's transfer form for this red bag, as recorded (transfer-form.ts). */
  readonly form: readonly Resource[];
  readonly issuedAt: string;
  /** meta.source → the organisation's name, for each row's "From …". */
  readonly sourceNames: Readonly<Record<string, string>>;
}

interface Ctx extends TransferInput {
  row(label: string, value: string, from: readonly Resource[], date?: string): RowBuild;
}

const by = <T extends Resource>(index: RecordIndex, type: T['resourceType'], keep: (r: T) => boolean = () => true): T[] => index.ofType<T>(type).filter(keep);
const newestFirst = (date: (r: Resource) => string | undefined) => (a: Resource, b: Resource): number => (date(b) ?? '').localeCompare(date(a) ?? '');
const notAfter = (issuedAt: string) => (when: string | undefined): boolean => !when || when <= issuedAt || Date.parse(when) <= Date.parse(issuedAt);

function person(ctx: Ctx): SectionBuild {
  const p = ctx.subject;
  const rows: RowBuild[] = [];
  rows.push(ctx.row('Name', personName(p.name), [p]));
  const preferred = p.name?.find((n) => n.use === 'usual' || n.use === 'nickname');
  if (preferred) rows.push(ctx.row('Preferred name', plainName([preferred]), [p]));
  if (p.birthDate) {
    const age = ageAt(p.birthDate, ctx.issuedAt);
    rows.push(ctx.row('Date of birth', `${formatDate(p.birthDate)}${age === undefined ? '' : ` (${String(age)} years)`}`, [p]));
  }
  const nhs = p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
  rows.push(ctx.row('NHS number', nhs ? formatNhsNumber(nhs) : 'Not known', [p]));
  if (p.gender) rows.push(ctx.row('Sex', `${p.gender.charAt(0).toUpperCase()}${p.gender.slice(1)}`, [p]));
  const address = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
  if (address) rows.push(ctx.row('Address', [...(address.line ?? []), address.city, address.postalCode].filter(Boolean).join(', '), [p]));
  const language = p.communication?.find((c) => c.preferred) ?? p.communication?.[0];
  rows.push(ctx.row('Language', language ? conceptText(language.language) : 'English (not recorded otherwise)', [p]));
  const interpreter = [...(p.extension ?? []), ...(p.communication ?? []).flatMap((c) => c.extension ?? [])].find((e: Extension) => /interpreterRequired$/i.test(e.url) || e.url === 'interpreterRequired');
  const interpreterNeeded = interpreter?.valueBoolean ?? interpreter?.extension?.find((e) => e.url === 'interpreterRequired')?.valueBoolean;
  rows.push(ctx.row('Interpreter needed', interpreterNeeded === true ? 'Yes' : interpreterNeeded === false ? 'No' : 'Not recorded', [p]));
  if ((p.photo ?? []).length > 0) rows.push(ctx.row('Photo', 'A photo is held in the record', [p]));
  return { code: 'person', title: 'Person', emptyText: 'No details recorded.', entries: [p], rows };
}

function reasonForTransfer(ctx: Ctx): SectionBuild {
  const request = ctx.form.find((r): r is ServiceRequest => r.resourceType === 'ServiceRequest' && hasCode(r.category, TRANSFER_REQUEST_CATEGORY.system ?? '', [TRANSFER_REQUEST_CATEGORY.code ?? '']));
  const observations = ctx.form.filter((r): r is Observation => r.resourceType === 'Observation');
  const rows: RowBuild[] = [];
  const entries: Resource[] = [];
  if (request) {
    entries.push(request);
    rows.push(ctx.row('Reason for transfer', request.reasonCode?.map(conceptText).join('; ') ?? '', [request]));
    for (const [part, label] of [['situation', 'Situation'], ['background', 'Background'], ['assessment', 'Assessment'], ['recommendation', 'Recommendation']] as const) {
      const note = request.note?.find((n) => n.extension?.some((e) => e.url === SBAR_PART_EXTENSION && e.valueCode === part));
      if (note) rows.push(ctx.row(label, note.text, [request]));
    }
    const unwell = request.extension?.find((e) => e.url === TIME_UNWELL_EXTENSION)?.valueDateTime;
    if (unwell) rows.push(ctx.row('Unwell since', formatDate(unwell), [request]));
    rows.push(ctx.row('Decided by', `${request.requester?.display ?? 'Not recorded'}${request.authoredOn ? `, ${formatDate(request.authoredOn)}` : ''}`, [request]));
  }
  const news = observations.find((o) => hasCode(o.code, NEWS2_CODE.system ?? '', [NEWS2_CODE.code ?? '']));
  for (const o of observations) {
    if (o === news) continue;
    entries.push(o);
    const value = o.valueQuantity ? `${String(o.valueQuantity.value ?? '')} ${o.valueQuantity.unit ?? ''}`.trim() : conceptText(o.valueCodeableConcept);
    const method = o.method ? ` (${conceptText(o.method)})` : '';
    rows.push(ctx.row(shortVitalName(o), `${value}${method}, ${formatDate(o.effectiveDateTime)}`, [o]));
  }
  if (news) {
    entries.push(news);
    rows.push(ctx.row('NEWS2 score', news.valueInteger !== undefined ? `${String(news.valueInteger)}: ${news.interpretation?.map(conceptText).join('; ') ?? ''}` : conceptText(news.dataAbsentReason), [news]));
  }
  return { code: 'reason-for-transfer', title: 'Reason for transfer', emptyText: 'The care home has not recorded a reason for transfer.', entries, rows };
}

const VITAL_NAMES: Readonly<Record<string, string>> = { '9279-1': 'Respiration rate', '59408-5': 'Oxygen saturation', '8480-6': 'Systolic blood pressure', '8867-4': 'Pulse', '8310-5': 'Temperature', '1104441000000107': 'Consciousness (ACVPU)' };
function shortVitalName(o: Observation): string {
  const code = o.code.coding?.find((c) => c.system === LOINC || c.system === SNOMED)?.code ?? '';
  return VITAL_NAMES[code] ?? conceptText(o.code);
}

function latestQuestionnaire(ctx: Ctx, canonical: string): QuestionnaireResponse | undefined {
  const fromForm = ctx.form.find((r): r is QuestionnaireResponse => r.resourceType === 'QuestionnaireResponse' && r.questionnaire === canonical);
  if (fromForm) return fromForm;
  return by<QuestionnaireResponse>(ctx.index, 'QuestionnaireResponse', (q) => q.questionnaire === canonical && q.status !== 'entered-in-error' && notAfter(ctx.issuedAt)(q.authored)).sort(newestFirst((r) => (r as QuestionnaireResponse).authored))[0];
}

function questionnaireRows(ctx: Ctx, response: QuestionnaireResponse | undefined): RowBuild[] {
  if (!response) return [];
  return (response.item ?? []).map((item) => ctx.row(item.text ?? item.linkId, (item.answer ?? []).map((a) => a.valueString ?? conceptText(a.valueCoding ? { coding: [a.valueCoding] } : undefined)).join('; '), [response], response.authored));
}

/** Dementia and other disorders of memory and thinking (SNOMED CT), for "About me: cognition" when the record holds the diagnosis. */
const COGNITION_CODES = ['52448006', '26929004', '386805003', '230270009', '429998004', '312991009', '191519005', '281004'];
const isCognition = (c: Condition): boolean => hasCode(c.code, SNOMED, COGNITION_CODES) || /dementia|alzheimer|cognitive impairment/i.test(conceptText(c.code));

function aboutMe(ctx: Ctx): SectionBuild {
  const response = latestQuestionnaire(ctx, ABOUT_ME_QUESTIONNAIRE);
  const rows = questionnaireRows(ctx, response);
  const diagnoses = by<Condition>(ctx.index, 'Condition', (c) => isCognition(c) && isActiveStatus(c));
  for (const c of diagnoses) rows.push(ctx.row('Diagnosis affecting memory and thinking', conceptText(c.code), [c], c.onsetDateTime ?? c.recordedDate));
  return { code: 'about-me', title: 'About me', emptyText: 'No "About me" is held: ask the care home or the person\'s family.', entries: [...(response ? [response] : []), ...diagnoses], rows };
}

function baseline(ctx: Ctx): SectionBuild {
  const response = latestQuestionnaire(ctx, BASELINE_QUESTIONNAIRE);
  const rows = questionnaireRows(ctx, response);
  const devices = by<DeviceUseStatement>(ctx.index, 'DeviceUseStatement', (d) => d.status === 'active');
  for (const d of devices) rows.push(ctx.row('Equipment', d.device.display ?? (referenceText(d.device, ctx.index) || 'Device'), [d]));
  return { code: 'baseline', title: 'Baseline: how the person usually is', emptyText: 'No baseline recorded.', entries: [...(response ? [response] : []), ...devices], rows };
}

type Medication = MedicationStatement | MedicationRequest;
const medicationName = (m: Medication | MedicationAdministration): string => conceptText(m.medicationCodeableConcept) || m.medicationReference?.display || 'Medication';
const normalise = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
const dosageOf = (m: Medication): string => (m.resourceType === 'MedicationStatement' ? m.dosage?.[0]?.text : m.dosageInstruction?.[0]?.text) ?? '';

/** Current medications: active statements and requests, one row a medicine (the same code or name from two sources is one medicine). */
export function currentMedications(index: RecordIndex): Medication[] {
  const meds = [
    ...by<MedicationStatement>(index, 'MedicationStatement', (m) => ['active', 'intended', 'on-hold'].includes(m.status)),
    ...by<MedicationRequest>(index, 'MedicationRequest', (m) => ['active', 'on-hold', 'draft'].includes(m.status) && m.intent !== 'proposal' && m.intent !== 'plan'),
  ];
  const seen = new Map<string, Medication>();
  for (const m of meds) {
    const code = m.medicationCodeableConcept?.coding?.find((c) => c.system === SNOMED)?.code;
    const key = code ? `code:${code}` : `name:${normalise(medicationName(m))}`;
    const earlier = seen.get(key);
    // A statement with a dose says more than one without.
    if (!earlier || (!dosageOf(earlier) && dosageOf(m))) seen.set(key, m);
  }
  return [...seen.values()].sort((a, b) => medicationName(a).localeCompare(medicationName(b)));
}

function medicationsAndAllergies(ctx: Ctx): SectionBuild {
  const meds = currentMedications(ctx.index);
  const doses = ctx.form.filter((r): r is MedicationAdministration => r.resourceType === 'MedicationAdministration');
  const rows: RowBuild[] = [];
  const used = new Set<MedicationAdministration>();
  for (const m of meds) {
    const name = normalise(medicationName(m));
    const dose = doses.find((d) => {
      const given = normalise(medicationName(d));
      return given.length > 0 && (name.startsWith(given) || given.startsWith(name.split(' ')[0] ?? name));
    });
    if (dose) used.add(dose);
    const parts = [dosageOf(m), m.status === 'on-hold' ? 'on hold' : '', dose ? `last dose given ${formatDate(dose.effectiveDateTime)}` : ''].filter(Boolean);
    rows.push(ctx.row(medicationName(m), parts.join('; ') || 'Dose not recorded', dose ? [m, dose] : [m]));
  }
  for (const d of doses) if (!used.has(d)) rows.push(ctx.row(`Last dose given: ${medicationName(d)}`, formatDate(d.effectiveDateTime), [d]));
  const allergies = by<AllergyIntolerance>(ctx.index, 'AllergyIntolerance', (a) => isActiveStatus(a) && a.verificationStatus?.coding?.[0]?.code !== 'entered-in-error' && a.verificationStatus?.coding?.[0]?.code !== 'refuted');
  for (const a of allergies) {
    const reaction = a.reaction?.flatMap((r) => r.manifestation.map(conceptText)).filter(Boolean).join(', ');
    rows.push(ctx.row('Allergy or adverse reaction', `${conceptText(a.code)}${reaction ? `: ${reaction}` : ''}${a.criticality === 'high' ? ' (high criticality)' : ''}`, [a], a.recordedDate));
  }
  if (allergies.length === 0) rows.push(ctx.row('Allergies', 'No known allergies recorded', []));
  return { code: 'medications-allergies', title: 'Medications and allergies', emptyText: 'No medications or allergies recorded.', entries: [...meds, ...doses, ...allergies], rows };
}

const ACP_DOCUMENT_CODES = ['advance-care-plan', 'dnacpr', 'respect'];
const ACP_SNOMED = ['304253006', '450476008', '736366004', '713673000'];
const isAcpDocument = (d: DocumentReference): boolean => hasCode(d.type, DOCUMENT_TYPE_SYSTEM, ACP_DOCUMENT_CODES) || hasCode(d.type, SNOMED, ACP_SNOMED) || hasCode(d.type, LOINC, ['42348-3']);
const isAcpPlan = (p: CarePlan): boolean => hasCode(p.category, SNOMED, ['736366004', '736373009']) || /advance care|end of life|preferred place/i.test(`${p.title ?? ''} ${conceptText(p.category?.[0])}`);

function advanceCarePlanning(ctx: Ctx): SectionBuild {
  const rows: RowBuild[] = [];
  const docs = by<DocumentReference>(ctx.index, 'DocumentReference', (d) => d.status === 'current' && isAcpDocument(d));
  for (const d of docs) rows.push(ctx.row(conceptText(d.type) || 'Advance care plan', [d.description, d.date ? `recorded ${formatDate(d.date)}` : '', d.author?.map((a) => referenceText(a, ctx.index)).filter(Boolean).join(', ')].filter(Boolean).join('; '), [d], d.date));
  const decisions = by<Consent>(ctx.index, 'Consent', (c) => c.status === 'active' && hasCode(c.scope, 'http://terminology.hl7.org/CodeSystem/consentscope', ['adr']));
  for (const c of decisions) rows.push(ctx.row('Advance decision', [c.category.map(conceptText).filter(Boolean).join(', '), c.provision?.type === 'deny' ? 'refuses' : '', c.provision?.code?.map(conceptText).join(', ') ?? ''].filter(Boolean).join(': ') || 'Recorded', [c], c.dateTime));
  const plans = by<CarePlan>(ctx.index, 'CarePlan', (p) => p.status === 'active' && isAcpPlan(p));
  for (const p of plans) rows.push(ctx.row(p.title ?? 'Advance care plan', p.description ?? (p.activity ?? []).map((a) => conceptText(a.detail?.code) || a.detail?.description).filter(Boolean).join('; '), [p], p.period?.start));
  const deciders = by<RelatedPerson>(ctx.index, 'RelatedPerson', (r) => r.active !== false && (r.relationship ?? []).some((rel) => rel.coding?.some((c) => c.system === ROLE_CODE_SYSTEM && c.code !== undefined && c.code in LEGAL_DECISION_MAKER_CODES)));
  for (const r of deciders) {
    const code = r.relationship?.flatMap((rel) => rel.coding ?? []).find((c) => c.system === ROLE_CODE_SYSTEM && c.code !== undefined && c.code in LEGAL_DECISION_MAKER_CODES)?.code ?? '';
    rows.push(ctx.row(LEGAL_DECISION_MAKER_CODES[code] ?? 'Legal decision-maker', [plainName(r.name), phoneOf(r.telecom)].filter(Boolean).join(', '), [r], r.period?.start));
  }
  if (docs.length + decisions.length + plans.length === 0) rows.unshift(ctx.row('DNACPR and advance care plans', 'None recorded in the shared record: ask the care home and the GP', []));
  return { code: 'advance-care-planning', title: 'Advance care planning and legal decision-makers', emptyText: 'None recorded.', entries: [...docs, ...decisions, ...plans, ...deciders], rows };
}

function contacts(ctx: Ctx): SectionBuild {
  const rows: RowBuild[] = [];
  const entries: Resource[] = [];
  const related = by<RelatedPerson>(ctx.index, 'RelatedPerson', (r) => r.active !== false);
  for (const r of related) {
    const relationship = (r.relationship ?? []).map(conceptText).filter(Boolean).join(', ');
    const codes = (r.relationship ?? []).flatMap((rel) => rel.coding ?? []);
    const nok = codes.some((c) => NEXT_OF_KIN_CODES.has(c.code ?? ''));
    const legal = codes.find((c) => c.system === ROLE_CODE_SYSTEM && c.code !== undefined && c.code in LEGAL_DECISION_MAKER_CODES);
    entries.push(r);
    const label = nok ? 'Next of kin' : legal ? (LEGAL_DECISION_MAKER_CODES[legal.code ?? ''] ?? 'Legal decision-maker') : 'Family or carer';
    rows.push(ctx.row(label, [plainName(r.name), legal && !nok ? '' : relationship, phoneOf(r.telecom)].filter(Boolean).join(', '), [r]));
  }
  const residence = [ctx.subject, ...by<Patient>(ctx.index, 'Patient')].flatMap((p) => p.extension ?? []).find((e) => e.url === CARE_HOME_RESIDENCE_EXTENSION)?.valueReference;
  if (residence) {
    const home = ctx.index.get(residence) as Organization | undefined;
    const manager = home?.contact?.find((c) => c.purpose?.coding?.some((k) => k.code === 'ADMIN'))?.name;
    if (home) entries.push(home);
    rows.push(ctx.row('Care home', [referenceText(residence, ctx.index), phoneOfReference(residence, ctx.index), manager ? `manager ${plainName([manager])}` : ''].filter(Boolean).join(', '), home ? [home] : []));
  }
  // The practice registered with when the passport is issued: after a move, not the one the person left.
  const gps = registeredGeneralPractitioners([ctx.subject, ...by<Patient>(ctx.index, 'Patient').filter((p) => p !== ctx.subject)], new Date(ctx.issuedAt));
  for (const gp of gps) {
    const target = ctx.index.get(gp);
    const label = target?.resourceType === 'Practitioner' || gp.reference?.startsWith('Practitioner/') ? 'Named GP' : 'GP practice';
    rows.push(ctx.row(label, [referenceText(gp, ctx.index), phoneOfReference(gp, ctx.index)].filter(Boolean).join(', '), target ? [target] : []));
    if (target) entries.push(target);
  }
  const teams = by<CareTeam>(ctx.index, 'CareTeam', (t) => t.status === 'active' || t.status === undefined);
  for (const team of teams) {
    entries.push(team);
    for (const p of team.participant ?? []) {
      const role = conceptText(p.role?.[0]);
      if (!/co-?ordinator|social worker|key worker|case manager|care manager/i.test(role)) continue;
      const member = ctx.index.get(p.member) as Practitioner | undefined;
      const phone = phoneOf(member?.telecom) ?? phoneOf(team.telecom);
      rows.push(ctx.row(role, [referenceText(p.member, ctx.index), phone].filter(Boolean).join(', '), member ? [team, member] : [team]));
    }
  }
  return { code: 'contacts', title: 'Contacts', emptyText: 'No contacts recorded.', entries, rows };
}

const isCarePackage = (p: CarePlan): boolean => (p.category ?? []).some((c) => c.coding?.some((k) => /care-package/i.test(k.code ?? '')) || /care.?package/i.test(conceptText(c)));

function currentCare(ctx: Ctx): SectionBuild {
  const plans = by<CarePlan>(ctx.index, 'CarePlan', (p) => (p.status === 'active' || p.status === 'on-hold') && !isAcpPlan(p));
  const rows: RowBuild[] = [];
  for (const plan of plans) {
    if (isCarePackage(plan)) {
      for (const a of plan.activity ?? []) {
        const what = conceptText(a.detail?.code) || a.detail?.description || 'Service';
        const suspended = a.detail?.status === 'on-hold';
        rows.push(ctx.row(what, [a.detail?.description && conceptText(a.detail.code) ? a.detail.description : '', suspended ? `suspended${a.detail?.statusReason ? `: ${conceptText(a.detail.statusReason)}` : ''}` : 'in place (may need suspending while in hospital)'].filter(Boolean).join('; '), [plan], plan.period?.start));
      }
    } else {
      rows.push(ctx.row(plan.title ?? 'Care plan', plan.description ?? (plan.activity ?? []).map((a) => conceptText(a.detail?.code) || a.detail?.description).filter(Boolean).join('; '), [plan], plan.period?.start));
    }
  }
  return { code: 'current-care', title: 'Current care and support', emptyText: 'No care plan or services recorded.', entries: plans, rows };
}

function itemsSent(ctx: Ctx): SectionBuild {
  const list = ctx.form.find((r): r is List => r.resourceType === 'List' && hasCode(r.code, ITEMS_SENT_CODE.system ?? '', [ITEMS_SENT_CODE.code ?? '']));
  const rows = (list?.entry ?? []).map((e) => ctx.row('Sent', e.item.display ?? '', [list as List]));
  if (list && rows.length === 0) rows.push(ctx.row('Sent', conceptText(list.emptyReason) || 'Nothing sent', [list]));
  return { code: 'items-sent', title: 'Items sent with the person', emptyText: 'The care home has not recorded what was sent.', entries: list ? [list] : [], rows };
}

function alerts(ctx: Ctx): SectionBuild {
  const flags = by<Flag>(ctx.index, 'Flag', (f) => f.status === 'active');
  const rows = flags.map((f) => ctx.row(conceptText(f.category?.[0]) || 'Alert', conceptText(f.code), [f], f.period?.start));
  return { code: 'alerts', title: 'Alerts', emptyText: 'No alerts recorded.', entries: flags, rows };
}

export function transferSections(input: TransferInput): SectionBuild[] {
  const ctx: Ctx = {
    ...input,
    row: (label, value, from, date) => {
      const first = from[0];
      const source = first ? sourceLine(first, input.sourceNames, date) : undefined;
      return { label, value, ...(source ? { source } : {}), entries: [...new Set(from.map(refOf))] };
    },
  };
  return [person(ctx), reasonForTransfer(ctx), aboutMe(ctx), baseline(ctx), medicationsAndAllergies(ctx), advanceCarePlanning(ctx), contacts(ctx), currentCare(ctx), itemsSent(ctx), alerts(ctx)];
}
