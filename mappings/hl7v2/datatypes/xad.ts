import type { Address, Period } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { at } from '../issues';
import { component, repetitionsOf, type FieldValue } from './field';
import { readTimestamp } from './ts-field';

/**
 * XAD extended address (v2.5.1 §2.A.85): street (SAD) ^ other designation ^ city ^ state or
 * province ^ postal code ^ country ^ address type (table 0190) ^ other geographic designation ^
 * county/parish ^ ... ^ effective date (13) ^ expiration date (14). UK senders write house and
 * street in XAD-1, locality in XAD-2, post town in XAD-3 and county in XAD-4 (→ Address.district).
 */

/** Table 0190 address type → Address.use / Address.type. */
export const ADDRESS_TYPE: Readonly<Record<string, Pick<Address, 'use' | 'type'>>> = {
  H: { use: 'home' },
  P: { use: 'home' },
  RH: { use: 'home' },
  L: { use: 'home' },
  B: { use: 'work' },
  O: { use: 'work' },
  C: { use: 'temp' },
  M: { type: 'postal' },
  BA: { use: 'old' },
  BDL: {},
  BR: {},
  N: {},
  F: {},
  SH: { type: 'physical' },
  V: { use: 'temp' },
};

export function readXad(scope: MapScope, value: FieldValue): Address | undefined {
  const line = [component(value, 1, 1), component(value, 2)].filter((l) => l !== '');
  const city = component(value, 3);
  const district = component(value, 4);
  const postalCode = component(value, 5);
  const country = component(value, 6);
  if (line.length === 0 && !city && !district && !postalCode && !country) return undefined;
  const typeCode = component(value, 7).toUpperCase();
  let kind: Pick<Address, 'use' | 'type'> = {};
  if (typeCode !== '') {
    const known = ADDRESS_TYPE[typeCode];
    if (known) kind = known;
    else scope.issues.unknownCode(at(value.segment, value.seq, 7, value.rep), 'address type (table 0190)');
  }
  const start = readTimestamp(scope, value.segment, value.seq, 'Address effective date', 13, value.rep);
  const end = readTimestamp(scope, value.segment, value.seq, 'Address expiration date', 14, value.rep);
  const address: Address = { ...kind };
  if (line.length) address.line = line;
  if (city) address.city = city;
  if (district) address.district = district;
  if (postalCode) address.postalCode = postalCode;
  if (country) address.country = country;
  if (start || end) {
    const period: Period = {};
    if (start) period.start = start.dateTime;
    if (end) period.end = end.dateTime;
    address.period = period;
  }
  return address;
}

export function readXadList(scope: MapScope, segment: Hl7Segment, seq: number): Address[] {
  return repetitionsOf(segment, seq)
    .map((v) => readXad(scope, v))
    .filter((a): a is Address => a !== undefined);
}
