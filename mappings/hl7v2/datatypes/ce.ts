import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import { localSystem, type MapScope } from '../context';
import { component, type FieldValue } from './field';

/** CE/CWE coded element (v2.5.1 §2.A.8, §2.A.13): code ^ text ^ coding system ^ alternate code ^ alternate text ^ alternate system. */
export interface CodedElement {
  readonly code: string;
  readonly text: string;
  readonly codingSystem: string;
  readonly alternateCode: string;
  readonly alternateText: string;
  readonly alternateCodingSystem: string;
}

export function readCe(value: FieldValue): CodedElement | undefined {
  const coded = {
    code: component(value, 1),
    text: component(value, 2),
    codingSystem: component(value, 3),
    alternateCode: component(value, 4),
    alternateText: component(value, 5),
    alternateCodingSystem: component(value, 6),
  };
  return coded.code || coded.text || coded.alternateCode ? coded : undefined;
}

/** Table 0396 coding system names (and the spellings UK senders use) → FHIR system URIs. */
const CODING_SYSTEMS: Readonly<Record<string, string>> = {
  SCT: 'http://snomed.info/sct',
  SNOMED: 'http://snomed.info/sct',
  SNOMEDCT: 'http://snomed.info/sct',
  'SNOMED-CT': 'http://snomed.info/sct',
  I10: 'http://hl7.org/fhir/sid/icd-10',
  ICD10: 'http://hl7.org/fhir/sid/icd-10',
  'ICD-10': 'http://hl7.org/fhir/sid/icd-10',
  I9C: 'http://hl7.org/fhir/sid/icd-9-cm',
  LN: 'http://loinc.org',
  LOINC: 'http://loinc.org',
  DMD: 'https://dmd.nhs.uk',
};

/** The FHIR system of a table 0396 name; HL7nnnn is HL7 table nnnn; anything else is the sender's. */
export function codingSystemUri(scope: MapScope, name: string, field: string): string {
  const upper = name.toUpperCase();
  const known = CODING_SYSTEMS[upper];
  if (known) return known;
  const hl7Table = /^HL7(\d{4})$/.exec(upper);
  if (hl7Table?.[1]) return `http://terminology.hl7.org/CodeSystem/v2-${hl7Table[1]}`;
  return localSystem.code(scope.source, name === '' ? field : name);
}

/** A CE as a CodeableConcept, both codings kept; `field` names the sender's code system when none is given. */
export function ceToCodeableConcept(scope: MapScope, coded: CodedElement, field: string): CodeableConcept {
  const coding: Coding[] = [];
  if (coded.code) coding.push({ system: codingSystemUri(scope, coded.codingSystem, field), code: coded.code, ...(coded.text ? { display: coded.text } : {}) });
  if (coded.alternateCode) {
    coding.push({
      system: codingSystemUri(scope, coded.alternateCodingSystem, field),
      code: coded.alternateCode,
      ...(coded.alternateText ? { display: coded.alternateText } : {}),
    });
  }
  const text = coded.text || coded.alternateText;
  return { ...(coding.length ? { coding } : {}), ...(text ? { text } : {}) };
}
