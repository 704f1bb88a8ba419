import type { CodeableConcept, Patient, Reference, RelatedPerson } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import { idFor, meta, type MapScope } from '../context';
import { readCe } from '../datatypes/ce';
import { firstOf, simpleText } from '../datatypes/field';
import { readTimestamp } from '../datatypes/ts-field';
import { readXadList } from '../datatypes/xad';
import { readXpnList } from '../datatypes/xpn';
import { readXtnList } from '../datatypes/xtn';
import { at } from '../issues';
import { senderCode } from '../tables/coded';
import { CONTACT_ROLE, CONTACT_ROLE_SYSTEM, RELATIONSHIP } from '../tables/related-person';
import { reportUnmappedFields } from './coverage';

/**
 * NK1 next of kin / associated parties (v2.5.1 §3.4.5) → RelatedPerson. Its id is the patient's
 * key and NK1-1 (the sender numbers a patient's contacts; a resend of the same list updates in place).
 */
const HANDLED = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]);

export function mapNk1(scope: MapScope, segment: Hl7Segment, patientKey: string, patient: Reference<Patient>, index: number): (RelatedPerson & { id: string }) | undefined {
  reportUnmappedFields(scope, segment, HANDLED);
  const setId = simpleText(segment, 1) || String(index);
  const relationship: CodeableConcept[] = [];
  const relValue = firstOf(segment, 3);
  const rel = relValue && readCe(relValue);
  if (rel) {
    const mapped = RELATIONSHIP[rel.code.toUpperCase()];
    if (mapped) relationship.push({ coding: [mapped], ...(rel.text ? { text: rel.text } : {}) });
    else {
      scope.issues.unknownCode(at(segment, 3), 'relationship (table 0063)');
      relationship.push(senderCode(scope, 'relationship', rel.code, rel.text));
    }
  }
  const roleValue = firstOf(segment, 7);
  const role = roleValue && readCe(roleValue);
  if (role) {
    const display = CONTACT_ROLE[role.code.toUpperCase()];
    if (display) relationship.push({ coding: [{ system: CONTACT_ROLE_SYSTEM, code: role.code.toUpperCase(), display }] });
    else {
      scope.issues.unknownCode(at(segment, 7), 'contact role (table 0131)');
      relationship.push(senderCode(scope, 'contact-role', role.code, role.text));
    }
  }
  const name = readXpnList(scope, segment, 2);
  const telecom = [...readXtnList(scope, segment, 5, 'home'), ...readXtnList(scope, segment, 6, 'work')];
  const address = readXadList(scope, segment, 4);
  const start = readTimestamp(scope, segment, 8, 'NK1-8 start date');
  const end = readTimestamp(scope, segment, 9, 'NK1-9 end date');
  if (name.length === 0 && telecom.length === 0 && address.length === 0) return undefined;
  return {
    resourceType: 'RelatedPerson',
    id: idFor(scope, 'RelatedPerson', `${patientKey}|NK1|${setId}`),
    meta: meta(scope),
    patient,
    ...(relationship.length ? { relationship } : {}),
    ...(name.length ? { name } : {}),
    ...(telecom.length ? { telecom } : {}),
    ...(address.length ? { address } : {}),
    ...(start || end ? { period: { ...(start ? { start: start.dateTime } : {}), ...(end ? { end: end.dateTime } : {}) } } : {}),
  };
}
