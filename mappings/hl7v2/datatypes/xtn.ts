import type { ContactPoint } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { at } from '../issues';
import { component, repetitionsOf, type FieldValue } from './field';

/**
 * XTN telephone number (v2.5.1 §2.A.89): formatted number (deprecated, still what UK PAS send) ^
 * use code (table 0201) ^ equipment type (table 0202) ^ email ^ country code ^ area code ^ local
 * number ^ extension ^ any text ^ ... ^ unformatted number (12).
 */

/** Table 0201 telecommunication use code. */
export const TELECOM_USE: Readonly<Record<string, Pick<ContactPoint, 'use' | 'system'>>> = {
  PRN: { use: 'home' },
  ORN: { use: 'home' },
  WPN: { use: 'work' },
  VHN: { use: 'temp' },
  ASN: {},
  EMR: {},
  NET: { system: 'email' },
  BPN: { system: 'pager' },
  PRS: { use: 'mobile' },
};

/** Table 0202 telecommunication equipment type. */
export const TELECOM_EQUIPMENT: Readonly<Record<string, Pick<ContactPoint, 'use' | 'system'>>> = {
  PH: { system: 'phone' },
  CP: { system: 'phone', use: 'mobile' },
  FX: { system: 'fax' },
  BP: { system: 'pager' },
  INTERNET: { system: 'email' },
  'X.400': { system: 'email' },
  MD: { system: 'other' },
  TDD: { system: 'other' },
  TTY: { system: 'other' },
  SAT: { system: 'phone' },
};

export function readXtn(scope: MapScope, value: FieldValue, defaultUse: ContactPoint['use']): ContactPoint | undefined {
  const useCode = component(value, 2).toUpperCase();
  const equipment = component(value, 3).toUpperCase();
  let use: ContactPoint['use'] = defaultUse;
  let system: ContactPoint['system'];
  if (useCode !== '') {
    const known = TELECOM_USE[useCode];
    if (known) {
      use = known.use ?? use;
      system = known.system ?? system;
    } else scope.issues.unknownCode(at(value.segment, value.seq, 2, value.rep), 'telecommunication use (table 0201)');
  }
  if (equipment !== '') {
    const known = TELECOM_EQUIPMENT[equipment];
    if (known) {
      system = known.system ?? system;
      use = known.use ?? use;
    } else scope.issues.unknownCode(at(value.segment, value.seq, 3, value.rep), 'telecommunication equipment (table 0202)');
  }
  const email = component(value, 4);
  const composed = [component(value, 5), component(value, 6), component(value, 7)].filter((p) => p !== '').join(' ');
  const extension = component(value, 8);
  const number = component(value, 1) || component(value, 12) || (composed && extension ? `${composed} ext. ${extension}` : composed);
  if (system === 'email' || (email && !number)) {
    const address = email || number;
    return address ? { system: 'email', value: address, ...(use && use !== 'mobile' ? { use } : {}) } : undefined;
  }
  if (!number) return undefined;
  return { system: system ?? 'phone', value: number, ...(use ? { use } : {}) };
}

export function readXtnList(scope: MapScope, segment: Hl7Segment, seq: number, defaultUse: ContactPoint['use']): ContactPoint[] {
  return repetitionsOf(segment, seq)
    .map((v) => readXtn(scope, v, defaultUse))
    .filter((c): c is ContactPoint => c !== undefined);
}
