/**
 * NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017; chart 1 and the
 * clinical response thresholds of chart 4). Pure: observations in, score and its parts out. A
 * missing parameter means no total: an incomplete set must not read as a low score.
 */

export const Consciousness = { ALERT: 'A', NEW_CONFUSION: 'C', VOICE: 'V', PAIN: 'P', UNRESPONSIVE: 'U' } as const;
export type Consciousness = (typeof Consciousness)[keyof typeof Consciousness];

export interface VitalSigns {
  readonly respiratoryRate?: number;
  readonly oxygenSaturation?: number;
  /** SpO2 scale 2 is for people with hypercapnic respiratory failure and a prescribed target of 88–92%. */
  readonly spo2Scale?: 1 | 2;
  readonly onOxygen?: boolean;
  readonly systolicBloodPressure?: number;
  readonly pulse?: number;
  readonly consciousness?: Consciousness;
  readonly temperature?: number;
}

export const News2Risk = { LOW: 'low', LOW_MEDIUM: 'low-medium', MEDIUM: 'medium', HIGH: 'high' } as const;
export type News2Risk = (typeof News2Risk)[keyof typeof News2Risk];

export const NEWS2_RISK_TEXT: Readonly<Record<News2Risk, string>> = {
  low: 'Low clinical risk',
  'low-medium': 'Low-medium clinical risk: a score of 3 in one parameter, urgent ward-based response',
  medium: 'Medium clinical risk: urgent response',
  high: 'High clinical risk: emergency response',
};

export type News2Result =
  | { readonly complete: true; readonly total: number; readonly risk: News2Risk; readonly parts: Readonly<Record<News2Parameter, number>> }
  | { readonly complete: false; readonly missing: readonly News2Parameter[] };

export type News2Parameter = 'respiratoryRate' | 'oxygenSaturation' | 'onOxygen' | 'systolicBloodPressure' | 'pulse' | 'consciousness' | 'temperature';

export const NEWS2_PARAMETER_TEXT: Readonly<Record<News2Parameter, string>> = {
  respiratoryRate: 'respiration rate',
  oxygenSaturation: 'oxygen saturation',
  onOxygen: 'air or oxygen',
  systolicBloodPressure: 'systolic blood pressure',
  pulse: 'pulse',
  consciousness: 'consciousness',
  temperature: 'temperature',
};

function respirationScore(rate: number): number {
  if (rate <= 8) return 3;
  if (rate <= 11) return 1;
  if (rate <= 20) return 0;
  if (rate <= 24) return 2;
  return 3;
}

function spo2Scale1(spo2: number): number {
  if (spo2 <= 91) return 3;
  if (spo2 <= 93) return 2;
  if (spo2 <= 95) return 1;
  return 0;
}

/** Scale 2: 88–92% scores 0, and so does 93% or more on air; above 92% on oxygen scores up. */
function spo2Scale2(spo2: number, onOxygen: boolean): number {
  if (spo2 <= 83) return 3;
  if (spo2 <= 85) return 2;
  if (spo2 <= 87) return 1;
  if (spo2 <= 92 || !onOxygen) return 0;
  if (spo2 <= 94) return 1;
  if (spo2 <= 96) return 2;
  return 3;
}

function systolicScore(bp: number): number {
  if (bp <= 90) return 3;
  if (bp <= 100) return 2;
  if (bp <= 110) return 1;
  if (bp <= 219) return 0;
  return 3;
}

function pulseScore(pulse: number): number {
  if (pulse <= 40) return 3;
  if (pulse <= 50) return 1;
  if (pulse <= 90) return 0;
  if (pulse <= 110) return 1;
  if (pulse <= 130) return 2;
  return 3;
}

function temperatureScore(t: number): number {
  // Chart 1 bands are to one decimal place: 35.0 or below, 35.1–36.0, 36.1–38.0, 38.1–39.0, 39.1 or above.
  const tenths = Math.round(t * 10);
  if (tenths <= 350) return 3;
  if (tenths <= 360) return 1;
  if (tenths <= 380) return 0;
  if (tenths <= 390) return 1;
  return 2;
}

export function news2(vitals: VitalSigns): News2Result {
  const missing: News2Parameter[] = [];
  const need = <T>(name: News2Parameter, value: T | undefined): value is T => {
    if (value === undefined) missing.push(name);
    return value !== undefined;
  };
  const { respiratoryRate: rr, oxygenSaturation: spo2, onOxygen, systolicBloodPressure: bp, pulse, consciousness, temperature } = vitals;
  const haveAll = [need('respiratoryRate', rr), need('oxygenSaturation', spo2), need('onOxygen', onOxygen), need('systolicBloodPressure', bp), need('pulse', pulse), need('consciousness', consciousness), need('temperature', temperature)].every(Boolean);
  if (!haveAll || rr === undefined || spo2 === undefined || onOxygen === undefined || bp === undefined || pulse === undefined || consciousness === undefined || temperature === undefined) {
    return { complete: false, missing };
  }
  const parts: Record<News2Parameter, number> = {
    respiratoryRate: respirationScore(rr),
    oxygenSaturation: vitals.spo2Scale === 2 ? spo2Scale2(spo2, onOxygen) : spo2Scale1(spo2),
    onOxygen: onOxygen ? 2 : 0,
    systolicBloodPressure: systolicScore(bp),
    pulse: pulseScore(pulse),
    consciousness: consciousness === Consciousness.ALERT ? 0 : 3,
    temperature: temperatureScore(temperature),
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  const risk: News2Risk = total >= 7 ? News2Risk.HIGH : total >= 5 ? News2Risk.MEDIUM : Object.values(parts).some((p) => p === 3) ? News2Risk.LOW_MEDIUM : News2Risk.LOW;
  return { complete: true, total, risk, parts };
}
