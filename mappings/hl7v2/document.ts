import type { DocumentReference, Encounter, Organization, Patient, Reference } from '@medplum/fhirtypes';
import type { ParsedHl7 } from '../../adapters/hl7v2/types';
import { idFor, localSystem, type MapScope } from './context';
import { Hl7ErrorCode, IssueReason, missing, at } from './issues';
import type { ResourceSet } from './resource-set';
import { mapObxContent } from './segments/obx';
import { mapTxa } from './segments/txa';

/**
 * MDM T02/T04 (v2.5.1 §9.5): a clinical document (here: discharge summaries, as text or as a PDF
 * or a pointer) → DocumentReference with its content, for the patient, linked to the visit.
 * T04 (status change) carries the same TXA-12, so it updates the same DocumentReference.
 */
export function mapDocument(
  scope: MapScope,
  message: ParsedHl7,
  input: {
    patient: Reference<Patient>;
    encounter: Reference<Encounter> | undefined;
    custodian: Reference<Organization> | undefined;
    resources: ResourceSet;
  },
): (DocumentReference & { id: string }) | undefined {
  const txa = message.segment('TXA');
  if (!txa) {
    scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.MISSING_SEGMENT, missing('TXA'), 'MDM message has no TXA segment');
    return undefined;
  }
  const header = mapTxa(scope, txa, input.resources);
  if (!header.documentNumber) {
    scope.issues.warning(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.REQUIRED_FIELD_MISSING, at(txa, 12), 'TXA-12 unique document number is empty; the document is keyed by the message control id');
  }
  const content = mapObxContent(scope, message.all('OBX'), header.title);
  if (content.length === 0) {
    scope.issues.error(Hl7ErrorCode.REQUIRED_FIELD_MISSING, IssueReason.MISSING_SEGMENT, missing('OBX', 5), 'MDM message carries no document content (OBX-5)');
    return undefined;
  }
  const key = header.documentNumber || `message|${message.header.controlId}`;
  const date = header.date && (header.date.precision === 'time' ? header.date.dateTime : header.date.instant);
  return {
    resourceType: 'DocumentReference',
    id: idFor(scope, 'DocumentReference', key),
    meta: { source: scope.source, ...(header.security ? { security: [header.security] } : {}) },
    ...(header.documentNumber ? { masterIdentifier: { system: localSystem.document(scope.source), value: header.documentNumber } } : {}),
    status: header.status,
    ...(header.docStatus ? { docStatus: header.docStatus } : {}),
    type: header.type,
    subject: input.patient,
    ...(date ? { date } : {}),
    ...(header.author.length ? { author: header.author } : {}),
    ...(header.authenticator ? { authenticator: header.authenticator } : {}),
    ...(input.custodian ? { custodian: input.custodian } : {}),
    ...(header.title ? { description: header.title } : {}),
    content: content.map((attachment) => ({ attachment })),
    ...(input.encounter ? { context: { encounter: [input.encounter] } } : {}),
  };
}
