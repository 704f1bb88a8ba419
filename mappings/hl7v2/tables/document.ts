import type { Coding, DocumentReference } from '@medplum/fhirtypes';

/** Table 0270 document type: every code, and the SNOMED CT record artifact CareBridge adds where one is agreed. */
export const DOCUMENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0270';
export const DOCUMENT_TYPE: Readonly<Record<string, { display: string; snomed?: Coding }>> = {
  AR: { display: 'Autopsy report' },
  CD: { display: 'Cardiodiagnostics' },
  CN: { display: 'Consultation' },
  DI: { display: 'Diagnostic imaging' },
  DS: { display: 'Discharge summary', snomed: { system: 'http://snomed.info/sct', code: '373942005', display: 'Discharge summary' } },
  ED: { display: 'Emergency department report' },
  HP: { display: 'History and physical examination' },
  OP: { display: 'Operative report' },
  PC: { display: 'Psychiatric consultation' },
  PH: { display: 'Psychiatric history and physical examination' },
  PN: { display: 'Procedure note' },
  PR: { display: 'Progress note' },
  SP: { display: 'Surgical pathology' },
  TS: { display: 'Transfer summary' },
};

/** Table 0271 document completion status → DocumentReference.docStatus. */
export const COMPLETION_STATUS: Readonly<Record<string, NonNullable<DocumentReference['docStatus']>>> = {
  AU: 'final',
  LA: 'final',
  DO: 'preliminary',
  DI: 'preliminary',
  IN: 'preliminary',
  IP: 'preliminary',
  PA: 'preliminary',
};

/** Table 0273 document availability status → DocumentReference.status. */
export const AVAILABILITY_STATUS: Readonly<Record<string, DocumentReference['status']>> = {
  AV: 'current',
  UN: 'current',
  OB: 'superseded',
  CA: 'entered-in-error',
};

/** Table 0272 document confidentiality status → v3 Confidentiality (meta.security, read by consent/). */
export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const CONFIDENTIALITY: Readonly<Record<string, Coding>> = {
  V: { system: CONFIDENTIALITY_SYSTEM, code: 'V', display: 'very restricted' },
  R: { system: CONFIDENTIALITY_SYSTEM, code: 'R', display: 'restricted' },
  U: { system: CONFIDENTIALITY_SYSTEM, code: 'N', display: 'normal' },
};

/** ED type of data (table 0191) and subtype (table 0291) → MIME type, for the usual cases. */
export const ED_MIME_TYPES: Readonly<Record<string, string>> = {
  'APPLICATION/PDF': 'application/pdf',
  'AP/PDF': 'application/pdf',
  'AP/RTF': 'application/rtf',
  'APPLICATION/RTF': 'application/rtf',
  'AP/MSWORD': 'application/msword',
  'TEXT/PLAIN': 'text/plain',
  'TEXT/HTML': 'text/html',
  'TEXT/RTF': 'text/rtf',
  'TEXT/XML': 'text/xml',
  'IM/JPEG': 'image/jpeg',
  'IM/PNG': 'image/png',
  'IM/TIFF': 'image/tiff',
  'IMAGE/JPEG': 'image/jpeg',
  'IMAGE/PNG': 'image/png',
  'IMAGE/TIFF': 'image/tiff',
};
