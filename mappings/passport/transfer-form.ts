import type { List, MedicationAdministration, Observation, Organization, Patient, QuestionnaireResponse, Reference, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { resourceId } from '../ids';
import {
  ABOUT_ME_QUESTIONNAIRE,
  BASELINE_QUESTIONNAIRE,
  ITEMS_SENT_CODE,
  LOINC,
  NEWS2_CODE,
  SBAR_PART_EXTENSION,
  SNOMED,
  TIME_UNWELL_EXTENSION,
  TRANSFER_REQUEST_CATEGORY,
  TRANSFER_REQUEST_CODE,
} from './codes';
import { Consciousness, news2, NEWS2_PARAMETER_TEXT, NEWS2_RISK_TEXT, type VitalSigns } from './news2';

/**
 * The care home's transfer form (the one place people write in CareBridge, specs/access-and-
 * consent.md "What people may write"): what the home knows at the moment of transfer. Checked
 * field by field, then recorded as FHIR under the care home's own source, so the passport, the
 * record and the hospital see it as the home's: the reason and SBAR as a ServiceRequest, the
 * observations and NEWS2 as Observations, last doses as MedicationAdministrations, the items
 * sent as a List, and "About me" and the baseline as QuestionnaireResponses. Pure.
 */

export const ItemSent = {
  MEDICATION: 'medication',
  GLASSES: 'glasses',
  HEARING_AIDS: 'hearing-aids',
  DENTURES: 'dentures',
  WALKING_AID: 'walking-aid',
  CLOTHES: 'clothes',
  OTHER_PROPERTY: 'other-property',
} as const;
export type ItemSent = (typeof ItemSent)[keyof typeof ItemSent];

export const ITEM_SENT_TEXT: Readonly<Record<ItemSent, string>> = {
  medication: 'Medication (in the red bag)',
  glasses: 'Glasses',
  'hearing-aids': 'Hearing aids',
  dentures: 'Dentures',
  'walking-aid': 'Walking aid',
  clothes: 'Day-of-discharge clothes',
  'other-property': 'Other property',
};

export const ABOUT_ME_ITEMS = {
  'what-matters': 'What matters to me',
  communication: 'Communication',
  'pain-distress': 'How I show pain or distress',
  'likes-dislikes': 'Likes and dislikes',
  routines: 'Routines',
  cognition: 'Memory and thinking (cognition)',
  capacity: 'Capacity to make decisions',
} as const;
export type AboutMeItem = keyof typeof ABOUT_ME_ITEMS;

export const BASELINE_ITEMS = {
  mobility: 'Mobility',
  'falls-risk': 'Falls risk',
  'eating-drinking': 'Eating and drinking (diet, swallowing)',
  continence: 'Continence',
  skin: 'Skin integrity',
  sight: 'Sight',
  hearing: 'Hearing',
  equipment: 'Equipment used',
} as const;
export type BaselineItem = keyof typeof BASELINE_ITEMS;

export interface TransferForm {
  readonly reason: string;
  readonly situation: string;
  readonly background: string;
  readonly assessment: string;
  readonly recommendation: string;
  /** When the person became unwell (ISO 8601 date-time). */
  readonly unwellSince?: string;
  /** Who decided to send the person to hospital (name and role), and when. */
  readonly decidedBy: string;
  readonly decidedAt: string;
  readonly observations?: VitalSigns & { readonly takenAt: string };
  readonly lastDoses?: readonly { readonly medication: string; readonly givenAt: string }[];
  readonly itemsSent: readonly ItemSent[];
  readonly otherItems?: string;
  readonly aboutMe?: Partial<Record<AboutMeItem, string>>;
  readonly baseline?: Partial<Record<BaselineItem, string>>;
}

export interface FormProblem {
  /** The form field, as a path ('observations.pulse', 'itemsSent[2]'). */
  readonly field: string;
  readonly reason: string;
}

export interface TransferFormContext {
  readonly patient: Reference<Patient>;
  /** The care home (Organization reference with its CQC identifier). */
  readonly careHome: Reference<Organization>;
  /** The care home's source URI (codes.careHomeSource). */
  readonly source: string;
  /** A key unique to this transfer (the red bag id), for deterministic ids. */
  readonly transferKey: string;
  /** The staff member filling in the form (display only). */
  readonly recordedBy: string;
}

const MAX_TEXT = 2000;
const isInstant = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v));

type Json = Record<string, unknown>;

/** Reads and checks a form from JSON (the API) or a flattened web form (the viewer); every problem at once. */
export function readTransferForm(input: unknown, now: Date): { form: TransferForm } | { problems: FormProblem[] } {
  const problems: FormProblem[] = [];
  const body: Json = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Json) : {};
  if (body !== input) problems.push({ field: '(form)', reason: 'must be a JSON object' });
  const text = (obj: Json, name: string, path: string, required: boolean): string | undefined => {
    const v = obj[name];
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      if (required) problems.push({ field: path, reason: 'is required' });
      return undefined;
    }
    if (typeof v !== 'string') {
      problems.push({ field: path, reason: 'must be text' });
      return undefined;
    }
    if (v.length > MAX_TEXT) problems.push({ field: path, reason: `is longer than ${String(MAX_TEXT)} characters` });
    return v.trim();
  };
  const instant = (obj: Json, name: string, path: string, required: boolean): string | undefined => {
    const v = text(obj, name, path, required);
    if (v === undefined) return undefined;
    if (!isInstant(v)) {
      problems.push({ field: path, reason: 'must be a date and time with a time zone, e.g. 2026-11-20T02:40:00Z' });
      return undefined;
    }
    if (Date.parse(v) > now.getTime() + 5 * 60_000) problems.push({ field: path, reason: 'is in the future' });
    return v;
  };
  const number = (obj: Json, name: string, path: string, min: number, max: number): number | undefined => {
    const v = obj[name];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    if (!Number.isFinite(n)) problems.push({ field: path, reason: 'must be a number' });
    else if (n < min || n > max) problems.push({ field: path, reason: `must be between ${String(min)} and ${String(max)}` });
    else return n;
    return undefined;
  };

  const reason = text(body, 'reason', 'reason', true);
  const situation = text(body, 'situation', 'situation', true);
  const background = text(body, 'background', 'background', true);
  const assessment = text(body, 'assessment', 'assessment', true);
  const recommendation = text(body, 'recommendation', 'recommendation', true);
  const unwellSince = instant(body, 'unwellSince', 'unwellSince', false);
  const decidedBy = text(body, 'decidedBy', 'decidedBy', true);
  const decidedAt = instant(body, 'decidedAt', 'decidedAt', true);

  let observations: TransferForm['observations'];
  if (body['observations'] !== undefined && body['observations'] !== null) {
    const o = body['observations'];
    if (typeof o !== 'object' || Array.isArray(o)) problems.push({ field: 'observations', reason: 'must be an object' });
    else {
      const obs = o as Json;
      const takenAt = instant(obs, 'takenAt', 'observations.takenAt', true);
      const scale = obs['spo2Scale'];
      if (scale !== undefined && scale !== 1 && scale !== 2 && scale !== '1' && scale !== '2') problems.push({ field: 'observations.spo2Scale', reason: 'must be 1 or 2' });
      const oxygen = obs['onOxygen'];
      if (oxygen !== undefined && typeof oxygen !== 'boolean' && oxygen !== 'true' && oxygen !== 'false' && oxygen !== '') problems.push({ field: 'observations.onOxygen', reason: 'must be true or false' });
      const consciousness = obs['consciousness'];
      const levels = Object.values(Consciousness) as string[];
      if (consciousness !== undefined && consciousness !== '' && (typeof consciousness !== 'string' || !levels.includes(consciousness))) problems.push({ field: 'observations.consciousness', reason: 'must be one of A, C, V, P, U (ACVPU)' });
      const vitals: VitalSigns & { takenAt: string } = {
        takenAt: takenAt ?? '',
        ...optional('respiratoryRate', number(obs, 'respiratoryRate', 'observations.respiratoryRate', 0, 80)),
        ...optional('oxygenSaturation', number(obs, 'oxygenSaturation', 'observations.oxygenSaturation', 50, 100)),
        ...(scale === 2 || scale === '2' ? { spo2Scale: 2 as const } : scale === 1 || scale === '1' ? { spo2Scale: 1 as const } : {}),
        ...(oxygen === true || oxygen === 'true' ? { onOxygen: true } : oxygen === false || oxygen === 'false' ? { onOxygen: false } : {}),
        ...optional('systolicBloodPressure', number(obs, 'systolicBloodPressure', 'observations.systolicBloodPressure', 30, 300)),
        ...optional('pulse', number(obs, 'pulse', 'observations.pulse', 10, 250)),
        ...(typeof consciousness === 'string' && levels.includes(consciousness) ? { consciousness: consciousness as Consciousness } : {}),
        ...optional('temperature', number(obs, 'temperature', 'observations.temperature', 25, 45)),
      };
      observations = vitals;
    }
  }

  const lastDoses: { medication: string; givenAt: string }[] = [];
  const doses = body['lastDoses'];
  if (doses !== undefined && doses !== null) {
    if (!Array.isArray(doses)) problems.push({ field: 'lastDoses', reason: 'must be a list' });
    else
      doses.forEach((d: unknown, i) => {
        const dose = typeof d === 'object' && d !== null ? (d as Json) : {};
        const medication = text(dose, 'medication', `lastDoses[${String(i)}].medication`, true);
        const givenAt = instant(dose, 'givenAt', `lastDoses[${String(i)}].givenAt`, true);
        if (medication && givenAt) lastDoses.push({ medication, givenAt });
      });
  }

  const itemsSent: ItemSent[] = [];
  const items = body['itemsSent'];
  const known = Object.values(ItemSent) as string[];
  if (!Array.isArray(items)) problems.push({ field: 'itemsSent', reason: 'must be a list (it may be empty)' });
  else
    items.forEach((item: unknown, i) => {
      if (typeof item !== 'string' || !known.includes(item)) problems.push({ field: `itemsSent[${String(i)}]`, reason: `must be one of ${known.join(', ')}` });
      else if (!itemsSent.includes(item as ItemSent)) itemsSent.push(item as ItemSent);
    });
  const otherItems = text(body, 'otherItems', 'otherItems', false);
  if (itemsSent.includes(ItemSent.OTHER_PROPERTY) && !otherItems) problems.push({ field: 'otherItems', reason: 'say what other property was sent' });

  const answers = <K extends string>(name: string, keys: Readonly<Record<K, string>>): Partial<Record<K, string>> | undefined => {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) {
      problems.push({ field: name, reason: 'must be an object' });
      return undefined;
    }
    const out: Partial<Record<K, string>> = {};
    for (const key of Object.keys(v)) {
      if (!(key in keys)) problems.push({ field: `${name}.${key}`, reason: `is not one of ${Object.keys(keys).join(', ')}` });
      else {
        const answer = text(v as Json, key, `${name}.${key}`, false);
        if (answer) out[key as K] = answer;
      }
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const aboutMe = answers('aboutMe', ABOUT_ME_ITEMS);
  const baseline = answers('baseline', BASELINE_ITEMS);

  if (problems.length > 0 || !reason || !situation || !background || !assessment || !recommendation || !decidedBy || !decidedAt) return { problems };
  return {
    form: {
      reason, situation, background, assessment, recommendation, decidedBy, decidedAt, itemsSent,
      ...(unwellSince ? { unwellSince } : {}),
      ...(observations ? { observations } : {}),
      ...(lastDoses.length > 0 ? { lastDoses } : {}),
      ...(otherItems ? { otherItems } : {}),
      ...(aboutMe ? { aboutMe } : {}),
      ...(baseline ? { baseline } : {}),
    },
  };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

const VITALS: readonly { key: keyof VitalSigns; code: string; display: string; unit?: string; ucum?: string }[] = [
  { key: 'respiratoryRate', code: '9279-1', display: 'Respiratory rate', unit: 'breaths/minute', ucum: '/min' },
  { key: 'oxygenSaturation', code: '59408-5', display: 'Oxygen saturation in arterial blood by pulse oximetry', unit: '%', ucum: '%' },
  { key: 'systolicBloodPressure', code: '8480-6', display: 'Systolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]' },
  { key: 'pulse', code: '8867-4', display: 'Heart rate', unit: 'beats/minute', ucum: '/min' },
  { key: 'temperature', code: '8310-5', display: 'Body temperature', unit: '°C', ucum: 'Cel' },
];

const VITAL_SIGNS_CATEGORY = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }];
const CONSCIOUSNESS_TEXT: Readonly<Record<Consciousness, string>> = { A: 'Alert', C: 'New confusion', V: 'Responds to voice', P: 'Responds to pain', U: 'Unresponsive' };

/** The form as FHIR resources under the care home's source. Ids are derived from the transfer key, so saving the form again updates them. */
export function transferFormResources(form: TransferForm, ctx: TransferFormContext): Resource[] {
  const meta = { source: ctx.source };
  const id = (type: string, key: string): string => resourceId(type, ctx.source, `${ctx.transferKey}|${key}`);
  const performer = [{ ...ctx.careHome }];
  const out: Resource[] = [];
  const observationRefs: Reference<Observation>[] = [];

  if (form.observations) {
    const obs = form.observations;
    for (const vital of VITALS) {
      const value = obs[vital.key];
      if (typeof value !== 'number') continue;
      const observation: Observation = {
        resourceType: 'Observation', id: id('Observation', vital.key), meta, status: 'final', category: VITAL_SIGNS_CATEGORY,
        code: { coding: [{ system: LOINC, code: vital.code, display: vital.display }] }, subject: ctx.patient, effectiveDateTime: obs.takenAt, performer,
        valueQuantity: { value, unit: vital.unit ?? '', system: 'http://unitsofmeasure.org', code: vital.ucum ?? '' },
        ...(vital.key === 'oxygenSaturation' ? { method: { text: `SpO2 scale ${String(obs.spo2Scale ?? 1)}${obs.onOxygen === true ? ', on oxygen' : obs.onOxygen === false ? ', on air' : ''}` } } : {}),
      };
      out.push(observation);
      observationRefs.push({ reference: `Observation/${observation.id ?? ''}` });
    }
    if (obs.consciousness) {
      const observation: Observation = {
        resourceType: 'Observation', id: id('Observation', 'consciousness'), meta, status: 'final', category: VITAL_SIGNS_CATEGORY,
        code: { coding: [{ system: SNOMED, code: '1104441000000107', display: 'ACVPU (Alert New-confusion Voice Pain Unresponsive) scale score' }] }, subject: ctx.patient, effectiveDateTime: obs.takenAt, performer,
        valueCodeableConcept: { text: CONSCIOUSNESS_TEXT[obs.consciousness] },
      };
      out.push(observation);
      observationRefs.push({ reference: `Observation/${observation.id ?? ''}` });
    }
    const score = news2(obs);
    const observation: Observation = {
      resourceType: 'Observation', id: id('Observation', 'news2'), meta, status: score.complete ? 'final' : 'preliminary', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey', display: 'Survey' }] }],
      code: { coding: [NEWS2_CODE] }, subject: ctx.patient, effectiveDateTime: obs.takenAt, performer,
      ...(score.complete
        ? { valueInteger: score.total, interpretation: [{ text: NEWS2_RISK_TEXT[score.risk] }] }
        : { dataAbsentReason: { text: `Not calculated: no ${score.missing.map((m) => NEWS2_PARAMETER_TEXT[m]).join(', ')}` } }),
      derivedFrom: [...observationRefs],
    };
    out.push(observation);
    observationRefs.push({ reference: `Observation/${observation.id ?? ''}` });
  }

  const sbar = (part: string, textValue: string): { text: string; extension: { url: string; valueCode: string }[] } => ({ text: textValue, extension: [{ url: SBAR_PART_EXTENSION, valueCode: part }] });
  const request: ServiceRequest = {
    resourceType: 'ServiceRequest', id: id('ServiceRequest', 'transfer'), meta, status: 'active', intent: 'order',
    category: [{ coding: [TRANSFER_REQUEST_CATEGORY] }], code: { coding: [TRANSFER_REQUEST_CODE], text: 'Transfer to hospital' },
    subject: ctx.patient, authoredOn: form.decidedAt, requester: { display: form.decidedBy },
    reasonCode: [{ text: form.reason }],
    note: [sbar('situation', form.situation), sbar('background', form.background), sbar('assessment', form.assessment), sbar('recommendation', form.recommendation)],
    ...(form.unwellSince ? { extension: [{ url: TIME_UNWELL_EXTENSION, valueDateTime: form.unwellSince }] } : {}),
    ...(observationRefs.length > 0 ? { supportingInfo: observationRefs } : {}),
    performer: [{ display: 'Receiving hospital' }],
  };
  out.push(request);

  for (const [i, dose] of (form.lastDoses ?? []).entries()) {
    const administration: MedicationAdministration = {
      resourceType: 'MedicationAdministration', id: id('MedicationAdministration', `dose-${String(i)}`), meta, status: 'completed',
      medicationCodeableConcept: { text: dose.medication }, subject: ctx.patient, effectiveDateTime: dose.givenAt, performer: [{ actor: { display: `${ctx.careHome.display ?? 'Care home'} staff` } }],
    };
    out.push(administration);
  }

  const list: List = {
    resourceType: 'List', id: id('List', 'items-sent'), meta, status: 'current', mode: 'snapshot', title: 'Items sent in the red bag', code: { coding: [ITEMS_SENT_CODE] },
    subject: ctx.patient, date: form.decidedAt, source: { display: ctx.recordedBy },
    ...(form.itemsSent.length === 0 ? { emptyReason: { text: 'Nothing sent with the person' } } : {}),
    entry: form.itemsSent.map((item) => ({ item: { display: item === ItemSent.OTHER_PROPERTY && form.otherItems ? `${ITEM_SENT_TEXT[item]}: ${form.otherItems}` : ITEM_SENT_TEXT[item], identifier: { system: ITEMS_SENT_CODE.system ?? '', value: item } } })),
  };
  out.push(list);

  const questionnaire = (key: string, canonical: string, labels: Readonly<Record<string, string>>, answers: Partial<Record<string, string>> | undefined): void => {
    if (!answers) return;
    const response: QuestionnaireResponse = {
      resourceType: 'QuestionnaireResponse', id: id('QuestionnaireResponse', key), meta, status: 'completed', questionnaire: canonical, subject: ctx.patient,
      authored: form.decidedAt, author: ctx.careHome, source: ctx.patient,
      item: Object.entries(labels).flatMap(([linkId, label]) => {
        const answer = answers[linkId];
        return answer ? [{ linkId, text: label, answer: [{ valueString: answer }] }] : [];
      }),
    };
    out.push(response);
  };
  questionnaire('about-me', ABOUT_ME_QUESTIONNAIRE, ABOUT_ME_ITEMS, form.aboutMe);
  questionnaire('baseline', BASELINE_QUESTIONNAIRE, BASELINE_ITEMS, form.baseline);
  return out;
}
