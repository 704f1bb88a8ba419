import type { CodeableConcept, Coding } from '@medplum/fhirtypes';
import domesticAbuse from './code-lists/domestic-abuse.json';
import genderIdentity from './code-lists/gender-identity.json';
import hiv from './code-lists/hiv.json';
import mentalHealth from './code-lists/mental-health.json';
import safeguarding from './code-lists/safeguarding.json';
import sexualHealth from './code-lists/sexual-health.json';
import substanceMisuse from './code-lists/substance-misuse.json';
import { Sensitivity } from './labels';

/**
 * Which sensitivities a source code carries (specs/access-and-consent.md, "Sensitive information"):
 * the code lists in `code-lists/*.json` are data, one file per sensitivity, each entry with its
 * provenance. SNOMED CT entries match the exact concept; ICD-10 and Read entries may match by prefix
 * (a category and its sub-codes). Pure: HL7v2, GP Connect and FHIR intake all use this.
 */
export const CodeMatch = { EXACT: 'exact', PREFIX: 'prefix' } as const;
export type CodeMatch = (typeof CodeMatch)[keyof typeof CodeMatch];

export interface SensitiveCodeEntry {
  readonly system: string;
  readonly code: string;
  readonly match: CodeMatch;
  readonly display: string;
  readonly provenance: string;
}

export interface SensitiveCodeList {
  readonly sensitivity: Sensitivity;
  readonly status: string;
  readonly reviewedBy: string | null;
  readonly note: string;
  readonly entries: readonly SensitiveCodeEntry[];
}

/** Systems that name the same code system (ICD-10 UK edition, Read v2 as some suppliers write it). */
const SYSTEM_ALIASES: Readonly<Record<string, string>> = {
  'http://hl7.org/fhir/sid/icd-10-uk': 'http://hl7.org/fhir/sid/icd-10',
  'https://fhir.hl7.org.uk/Id/icd-10': 'http://hl7.org/fhir/sid/icd-10',
  'http://read.info/readv2/': 'http://read.info/readv2',
};

const canonicalSystem = (system: string): string => SYSTEM_ALIASES[system] ?? system;

function checked(raw: { sensitivity: string; status: string; reviewedBy: string | null; note: string; entries: { system: string; code: string; match: string; display: string; provenance: string }[] }): SensitiveCodeList {
  const sensitivity = (Object.values(Sensitivity) as string[]).includes(raw.sensitivity) ? (raw.sensitivity as Sensitivity) : undefined;
  if (!sensitivity) throw new Error(`Code list for unknown sensitivity '${raw.sensitivity}'`);
  const entries = raw.entries.map((e) => {
    if (e.match !== CodeMatch.EXACT && e.match !== CodeMatch.PREFIX) throw new Error(`Code list ${raw.sensitivity}: match must be exact or prefix, not '${e.match}'`);
    if (!e.provenance.trim()) throw new Error(`Code list ${raw.sensitivity}: entry ${e.code} has no provenance`);
    return { system: canonicalSystem(e.system), code: e.code, match: e.match, display: e.display, provenance: e.provenance };
  });
  return { sensitivity, status: raw.status, reviewedBy: raw.reviewedBy, note: raw.note, entries };
}

export const SENSITIVE_CODE_LISTS: readonly SensitiveCodeList[] = [mentalHealth, sexualHealth, substanceMisuse, hiv, genderIdentity, safeguarding, domesticAbuse].map(checked);

const exact = new Map<string, Sensitivity[]>();
const prefixes: { system: string; code: string; sensitivity: Sensitivity }[] = [];
for (const list of SENSITIVE_CODE_LISTS) {
  for (const entry of list.entries) {
    if (entry.match === CodeMatch.EXACT) {
      const key = `${entry.system}|${entry.code}`;
      exact.set(key, [...(exact.get(key) ?? []), list.sensitivity]);
    } else {
      prefixes.push({ system: entry.system, code: entry.code.toUpperCase(), sensitivity: list.sensitivity });
    }
  }
}

/** The sensitivities of one coding (none for a coding without system or code). */
export function sensitivitiesOfCoding(coding: Pick<Coding, 'system' | 'code'>): Sensitivity[] {
  if (!coding.system || !coding.code) return [];
  const system = canonicalSystem(coding.system);
  const found = new Set(exact.get(`${system}|${coding.code}`) ?? []);
  const code = coding.code.toUpperCase();
  for (const p of prefixes) if (p.system === system && code.startsWith(p.code)) found.add(p.sensitivity);
  return [...found].sort();
}

/** The sensitivities of any of these concepts' codings, sorted and unique. */
export function sensitivitiesOf(concepts: readonly (CodeableConcept | undefined)[]): Sensitivity[] {
  const found = new Set<Sensitivity>();
  for (const concept of concepts) for (const coding of concept?.coding ?? []) for (const s of sensitivitiesOfCoding(coding)) found.add(s);
  return [...found].sort();
}
