import { ABOUT_ME_ITEMS, BASELINE_ITEMS, ITEM_SENT_TEXT, ItemSent, type FormProblem } from '../../mappings/passport/transfer-form';
import { londonLocalToInstant } from './london-time';

/**
 * The care home's transfer form as a web form (issue "passport"): the flat fields of the page
 * (named by the form's field paths: `observations.pulse`, `lastDoses[0].givenAt`, `aboutMe.routines`)
 * to the nested object readTransferForm checks, date-times typed in UK local time to instants, and
 * each problem back to the field it is about, with a label people read. Pure.
 */

/** Rows for last doses on the page. */
export const DOSE_ROWS = 4;

export const OBSERVATION_NUMBERS = [
  { key: 'respiratoryRate', label: 'Respiratory rate (breaths per minute)' },
  { key: 'oxygenSaturation', label: 'Oxygen saturation, SpO2 (%)' },
  { key: 'systolicBloodPressure', label: 'Systolic blood pressure (mmHg)' },
  { key: 'pulse', label: 'Pulse (beats per minute)' },
  { key: 'temperature', label: 'Temperature (°C)' },
] as const;

export const CONSCIOUSNESS_CHOICES = [
  { value: 'A', text: 'A: Alert' },
  { value: 'C', text: 'C: New confusion' },
  { value: 'V', text: 'V: Responds to voice' },
  { value: 'P', text: 'P: Responds to pain' },
  { value: 'U', text: 'U: Unresponsive' },
] as const;

const LABELS: Readonly<Record<string, string>> = {
  reason: 'Reason for transfer',
  situation: 'Situation',
  background: 'Background',
  assessment: 'Assessment',
  recommendation: 'Recommendation',
  unwellSince: 'Unwell since',
  decidedBy: 'Who decided to send the person to hospital',
  decidedAt: 'When it was decided',
  'observations.takenAt': 'When the observations were taken',
  'observations.spo2Scale': 'SpO2 scale',
  'observations.onOxygen': 'On oxygen',
  'observations.consciousness': 'Consciousness (ACVPU)',
  itemsSent: 'Items sent with the person',
  otherItems: 'Other property',
  ...Object.fromEntries(OBSERVATION_NUMBERS.map((o) => [`observations.${o.key}`, o.label])),
  ...Object.fromEntries(Object.entries(ABOUT_ME_ITEMS).map(([k, v]) => [`aboutMe.${k}`, `About me: ${v}`])),
  ...Object.fromEntries(Object.entries(BASELINE_ITEMS).map(([k, v]) => [`baseline.${k}`, `Baseline: ${v}`])),
};

export type FlatForm = Readonly<Record<string, string | readonly string[]>>;

export interface FieldError {
  /** The page's field name ('observations.pulse'). */
  readonly field: string;
  /** The id of the element the error summary links to. */
  readonly id: string;
  readonly text: string;
}

/** The element id of a field name: `lastDoses[0].givenAt` → `lastDoses-0-givenAt`. */
export function fieldId(field: string): string {
  return field.replace(/[[\].]+/g, '-').replace(/-+$/, '');
}

function labelOf(field: string): string {
  const dose = /^lastDoses\[(\d+)\]\.(medication|givenAt)$/.exec(field);
  if (dose) return `Last dose ${String(Number(dose[1]) + 1)}: ${dose[2] === 'medication' ? 'medicine' : 'when given'}`;
  if (/^itemsSent\[\d+\]$/.test(field)) return LABELS['itemsSent'] ?? field;
  return LABELS[field] ?? field;
}

function messageOf(field: string, reason: string): string {
  const label = labelOf(field);
  return /^(is|must) /.test(reason) ? `${label} ${reason}` : `${label}: ${reason}`;
}

const one = (form: FlatForm, name: string): string => {
  const v = form[name];
  return v === undefined ? '' : typeof v === 'string' ? v : (v[0] ?? '');
};

export interface ReadFlat {
  /** The nested object for readTransferForm. */
  readonly input: Record<string, unknown>;
  /** Problems found before readTransferForm (date-times), by field. */
  readonly timeProblems: ReadonlyMap<string, string>;
  /** readTransferForm's `lastDoses[i]` (filled rows only) → the page's row. */
  readonly doseRows: readonly number[];
}

/** The page's fields → what readTransferForm expects; date-times read as London time. */
export function nestTransferForm(form: FlatForm): ReadFlat {
  const timeProblems = new Map<string, string>();
  const time = (name: string): string | undefined => {
    const raw = one(form, name).trim();
    if (raw === '') return undefined;
    const read = londonLocalToInstant(raw);
    if ('instant' in read) return read.instant;
    timeProblems.set(name, read.problem === 'nonexistent' ? 'is in the hour the clocks go forward: that time did not happen in the UK' : 'must be a date and time, for example 20/11/2026 02:30');
    return raw;
  };
  const text = (name: string): string | undefined => {
    const v = one(form, name);
    return v.trim() === '' ? undefined : v;
  };
  const input: Record<string, unknown> = {};
  for (const name of ['reason', 'situation', 'background', 'assessment', 'recommendation', 'decidedBy', 'otherItems']) {
    const v = text(name);
    if (v !== undefined) input[name] = v;
  }
  for (const name of ['unwellSince', 'decidedAt']) {
    const v = time(name);
    if (v !== undefined) input[name] = v;
  }

  const observationNames = ['takenAt', ...OBSERVATION_NUMBERS.map((o) => o.key), 'consciousness', 'spo2Scale', 'onOxygen'];
  // The observations are given when anything but the scale is filled in (scale 1 is the default choice).
  if (observationNames.some((k) => k !== 'spo2Scale' && one(form, `observations.${k}`).trim() !== '')) {
    const obs: Record<string, unknown> = {};
    const takenAt = time('observations.takenAt');
    if (takenAt !== undefined) obs['takenAt'] = takenAt;
    for (const k of observationNames.slice(1)) {
      const v = text(`observations.${k}`);
      if (v !== undefined) obs[k] = v.trim();
    }
    input['observations'] = obs;
  }

  const doses: Record<string, unknown>[] = [];
  const doseRows: number[] = [];
  for (let row = 0; row < DOSE_ROWS; row++) {
    const medication = text(`lastDoses[${String(row)}].medication`);
    const given = one(form, `lastDoses[${String(row)}].givenAt`).trim();
    if (medication === undefined && given === '') continue;
    const givenAt = time(`lastDoses[${String(row)}].givenAt`);
    doses.push({ ...(medication !== undefined ? { medication } : {}), ...(givenAt !== undefined ? { givenAt } : {}) });
    doseRows.push(row);
  }
  if (doses.length > 0) input['lastDoses'] = doses;

  const items = form['itemsSent'];
  input['itemsSent'] = items === undefined ? [] : typeof items === 'string' ? [items] : [...items];

  for (const [group, keys] of [['aboutMe', ABOUT_ME_ITEMS], ['baseline', BASELINE_ITEMS]] as const) {
    const answers: Record<string, string> = {};
    for (const key of Object.keys(keys)) {
      const v = text(`${group}.${key}`);
      if (v !== undefined) answers[key] = v;
    }
    if (Object.keys(answers).length > 0) input[group] = answers;
  }
  return { input, timeProblems, doseRows };
}

/** readTransferForm's problems (and the date-time ones) as the page's errors, in the page's order, one per field. */
export function fieldErrors(read: ReadFlat, problems: readonly FormProblem[]): FieldError[] {
  const byField = new Map<string, string>();
  for (const p of problems) {
    const field = p.field.replace(/^lastDoses\[(\d+)\]/, (_m, i: string) => `lastDoses[${String(read.doseRows[Number(i)] ?? Number(i))}]`).replace(/^itemsSent\[\d+\]$/, 'itemsSent');
    if (!byField.has(field)) byField.set(field, p.reason);
  }
  // Our own reading of a date-time says better what is wrong than "must have a time zone".
  for (const [field, reason] of read.timeProblems) byField.set(field, reason);
  const order = pageOrder();
  const rank = (field: string): number => {
    const i = order.indexOf(field);
    return i < 0 ? order.length : i;
  };
  return [...byField.entries()]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([field, reason]) => ({ field, id: fieldId(field), text: messageOf(field, reason) }));
}

function pageOrder(): string[] {
  return [
    'reason', 'situation', 'background', 'assessment', 'recommendation', 'unwellSince', 'decidedBy', 'decidedAt',
    'observations.takenAt', ...OBSERVATION_NUMBERS.map((o) => `observations.${o.key}`), 'observations.spo2Scale', 'observations.onOxygen', 'observations.consciousness',
    ...Array.from({ length: DOSE_ROWS }, (_, i) => [`lastDoses[${String(i)}].medication`, `lastDoses[${String(i)}].givenAt`]).flat(),
    'itemsSent', 'otherItems',
    ...Object.keys(ABOUT_ME_ITEMS).map((k) => `aboutMe.${k}`),
    ...Object.keys(BASELINE_ITEMS).map((k) => `baseline.${k}`),
  ];
}

/** What the page shows: the fields with their labels, ids and values (kept when the form comes back with errors). */
export function transferFormPage(form: FlatForm, errors: readonly FieldError[]): Record<string, unknown> {
  const error = Object.fromEntries(errors.map((e) => [e.field, e.text]));
  const field = (name: string, label: string): { name: string; id: string; label: string; value: string; error?: string } => ({ name, id: fieldId(name), label, value: one(form, name), ...(error[name] ? { error: error[name] } : {}) });
  const sent = form['itemsSent'];
  const sentValues: readonly string[] = sent === undefined ? [] : typeof sent === 'string' ? [sent] : sent;
  return {
    errors,
    values: Object.fromEntries(Object.keys(form).map((k) => [k, one(form, k)])),
    error,
    observations: OBSERVATION_NUMBERS.map((o) => field(`observations.${o.key}`, o.label)),
    consciousness: CONSCIOUSNESS_CHOICES.map((c) => ({ ...c, checked: one(form, 'observations.consciousness') === c.value })),
    doses: Array.from({ length: DOSE_ROWS }, (_, i) => ({
      n: i + 1,
      medication: field(`lastDoses[${String(i)}].medication`, 'Medicine'),
      givenAt: field(`lastDoses[${String(i)}].givenAt`, 'When given'),
    })),
    items: Object.values(ItemSent).map((value) => ({ value, text: ITEM_SENT_TEXT[value], checked: sentValues.includes(value) })),
    aboutMe: Object.entries(ABOUT_ME_ITEMS).map(([k, label]) => field(`aboutMe.${k}`, label)),
    baseline: Object.entries(BASELINE_ITEMS).map(([k, label]) => field(`baseline.${k}`, label)),
  };
}
