import type { HumanName } from '@medplum/fhirtypes';
import type { MapScope } from '../context';
import { at } from '../issues';
import { component, repetitionsOf, type FieldValue } from './field';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';

/**
 * XPN extended person name (v2.5.1 §2.A.88): family (FN: surname & ...) ^ given ^ further given
 * names ^ suffix ^ prefix ^ degree ^ name type code (table 0200) ^ ...
 */

/** Table 0200 name type → HumanName.use (HL7 v2-to-FHIR IG concept map). */
export const NAME_TYPE_TO_USE: Readonly<Record<string, HumanName['use']>> = {
  L: 'official',
  C: 'official',
  R: 'official',
  D: 'usual',
  A: 'usual',
  T: 'usual',
  M: 'maiden',
  B: 'old',
  N: 'nickname',
  S: 'anonymous',
  U: undefined,
};

export function readXpn(scope: MapScope, value: FieldValue, defaultUse?: HumanName['use']): HumanName | undefined {
  const family = component(value, 1, 1);
  const further = component(value, 3);
  const given = [component(value, 2), ...(further === '' ? [] : further.split(/\s+/))].filter((g) => g !== '');
  const suffix = component(value, 4);
  const prefix = component(value, 5);
  if (!family && given.length === 0) return undefined;
  const typeCode = component(value, 7).toUpperCase();
  let use = defaultUse;
  if (typeCode !== '') {
    if (Object.hasOwn(NAME_TYPE_TO_USE, typeCode)) use = NAME_TYPE_TO_USE[typeCode];
    else scope.issues.unknownCode(at(value.segment, value.seq, 7, value.rep), 'name type (table 0200)');
  }
  const name: HumanName = {};
  if (use) name.use = use;
  if (family) name.family = family;
  if (given.length) name.given = given;
  if (prefix) name.prefix = [prefix];
  if (suffix) name.suffix = [suffix];
  return name;
}

export function readXpnList(scope: MapScope, segment: Hl7Segment, seq: number, defaultUse?: HumanName['use']): HumanName[] {
  return repetitionsOf(segment, seq)
    .map((v) => readXpn(scope, v, defaultUse))
    .filter((n): n is HumanName => n !== undefined);
}
