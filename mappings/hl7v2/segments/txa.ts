import type { Coding, DocumentReference, Practitioner, Reference } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { repetitionsOf, simpleText } from '../datatypes/field';
import { readTimestamp, type ValidTimestamp } from '../datatypes/ts-field';
import { practitionerFromXcn } from '../datatypes/xcn';
import { at } from '../issues';
import type { ResourceSet } from '../resource-set';
import { senderCode } from '../tables/coded';
import { AVAILABILITY_STATUS, COMPLETION_STATUS, CONFIDENTIALITY, DOCUMENT_TYPE, DOCUMENT_TYPE_SYSTEM } from '../tables/document';
import { reportUnmappedFields } from './coverage';

/**
 * TXA transcription document header (v2.5.1 §9.6.1): what the document is, who wrote it, when,
 * its number, completion, confidentiality and availability. TXA-1 set id, TXA-3 content
 * presentation, TXA-7 transcription time and TXA-11 transcriptionist are passed over.
 */
const HANDLED = new Set([1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 16, 17, 18, 19, 22]);

export interface DocumentHeader {
  /** TXA-12.1 unique document number (the document's key with the sender). */
  readonly documentNumber: string;
  readonly type: NonNullable<DocumentReference['type']>;
  readonly status: DocumentReference['status'];
  readonly docStatus: DocumentReference['docStatus'];
  /** TXA-6 origination, else TXA-4 activity date/time. */
  readonly date: ValidTimestamp | undefined;
  readonly author: Reference<Practitioner>[];
  readonly authenticator: Reference<Practitioner> | undefined;
  readonly security: Coding | undefined;
  readonly title: string;
}

function practitioners(scope: MapScope, segment: Hl7Segment, seqs: readonly number[], resources: ResourceSet): Reference<Practitioner>[] {
  const seen = new Set<string>();
  const out: Reference<Practitioner>[] = [];
  for (const seq of seqs) {
    for (const value of repetitionsOf(segment, seq)) {
      const ref = practitionerFromXcn(scope, value, resources);
      const key = ref?.reference ?? ref?.display;
      if (ref && key && !seen.has(key)) {
        seen.add(key);
        out.push(ref);
      }
    }
  }
  return out;
}

export function mapTxa(scope: MapScope, segment: Hl7Segment, resources: ResourceSet): DocumentHeader {
  reportUnmappedFields(scope, segment, HANDLED);
  const typeCode = simpleText(segment, 2).toUpperCase();
  const known = DOCUMENT_TYPE[typeCode];
  let type: DocumentHeader['type'];
  if (known) type = { coding: [...(known.snomed ? [known.snomed] : []), { system: DOCUMENT_TYPE_SYSTEM, code: typeCode, display: known.display }] };
  else {
    if (typeCode) scope.issues.unknownCode(at(segment, 2), 'document type (table 0270)');
    type = typeCode ? senderCode(scope, 'document-type', typeCode, '') : { text: 'Document' };
  }
  const completion = simpleText(segment, 17).toUpperCase();
  const docStatus = COMPLETION_STATUS[completion];
  if (completion && !docStatus) scope.issues.unknownCode(at(segment, 17), 'document completion status (table 0271)');
  const availability = simpleText(segment, 19).toUpperCase();
  const status = AVAILABILITY_STATUS[availability];
  if (availability && !status) scope.issues.unknownCode(at(segment, 19), 'document availability status (table 0273)');
  const confidentiality = simpleText(segment, 18).toUpperCase();
  const security = CONFIDENTIALITY[confidentiality];
  if (confidentiality && !security) scope.issues.unknownCode(at(segment, 18), 'document confidentiality status (table 0272)');
  const activity = readTimestamp(scope, segment, 4, 'TXA-4 activity date/time');
  const origination = readTimestamp(scope, segment, 6, 'TXA-6 origination date/time');
  return {
    documentNumber: simpleText(segment, 12),
    type,
    status: status ?? 'current',
    docStatus,
    date: origination ?? activity,
    author: practitioners(scope, segment, [9, 5], resources),
    authenticator: practitioners(scope, segment, [10, 22], resources)[0],
    security,
    title: simpleText(segment, 16) || (known?.display ?? ''),
  };
}
