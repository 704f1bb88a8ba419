import type { Identifier, Patient } from '@medplum/fhirtypes';
import {
  NHS_NUMBER_SYSTEM,
  NHS_NUMBER_VERIFICATION_EXTENSION,
  NHS_NUMBER_VERIFICATION_SYSTEM,
  NhsNumberVerification,
  nhsCheckDigit,
} from '../mappings/identity/nhs-number';
import { resourceId } from '../mappings/ids';

/**
 * Source records for the identity-resolution benchmark: invented people, each known to one to three
 * sending systems (a GP practice, a hospital PAS, a council's social-care system), each of which
 * keeps its own Patient with its own meta.source and local id. NHS numbers are from the 999 test
 * range with valid modulus-11 check digits, generated incrementally; a seeded PRNG makes the mix
 * the same on every run:
 *
 *  - GP records carry the number verified (UK Core verification status 01), always valid;
 *  - hospital records carry it as 02 (present, not traced), council records with no status;
 *  - a small share of hospital and council records have a mistyped number (fails the check), a
 *    different date of birth (a conflict), or, for the council, no number at all;
 *  - a few hospital patients are registered twice (a duplicate in one source, same number).
 *
 * Records arrive source by source (every GP record, then the hospital's, then the council's), so
 * resolving a later source has to find the records of the earlier ones in the store.
 */
export const IDENTITY_SOURCES = {
  gp: 'https://gp.bench.invalid/fhir',
  hospital: 'https://pas.bench-trust.invalid/hl7v2',
  council: 'https://social-care.bench-council.invalid/carefirst',
} as const;
type SourceName = keyof typeof IDENTITY_SOURCES;
const SOURCE_ORDER: readonly SourceName[] = ['gp', 'hospital', 'council'];

/** Which sources know a person, by cumulative probability (mean 1.6 records per person). */
const PRESENCE: readonly (readonly [number, readonly SourceName[]])[] = [
  [0.45, ['gp']],
  [0.75, ['gp', 'hospital']],
  [0.83, ['gp', 'council']],
  [0.93, ['gp', 'hospital', 'council']],
  [0.97, ['hospital']],
  [0.99, ['hospital', 'council']],
  [1, ['council']],
];
/** Per non-GP record. */
const SHARE = {
  invalidNumber: { hospital: 0.01, council: 0.015 },
  otherBirthDate: { hospital: 0.02, council: 0.02 },
  noNumber: { hospital: 0, council: 0.02 },
  duplicateRegistration: { hospital: 0.003, council: 0 },
} as const;

const FAMILIES = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Okafor', 'Evans', 'Thomas', 'Roberts', 'Khan', "O'Brien", 'Hughes'];
const GIVEN = ['Olivia', 'Amelia', 'Isla', 'Ava', 'Noah', 'Oliver', 'George', 'Arthur', 'Siân', 'Muhammad', 'Leo', 'Grace', 'Freya', 'Harry', 'Aisha', 'Jack'];

export interface IdentityDataset {
  /** Every source record, in arrival order: all GP records, then hospital, then council. */
  readonly records: Patient[];
  /** Where each source's records start and end in `records`. */
  readonly bySource: readonly { readonly source: string; readonly name: SourceName; readonly start: number; readonly end: number }[];
  readonly persons: number;
  readonly mix: {
    readonly verified: number;
    readonly unverified: number;
    readonly invalidNumber: number;
    readonly noNumber: number;
    readonly otherBirthDate: number;
    readonly duplicateRegistration: number;
  };
}

/** mulberry32: small, fast, good enough for a reproducible mix. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The valid NHS numbers of the 999 test range, in order, one call at a time (O(1) amortised). */
function* testRangeNumbers(): Generator<string> {
  for (let body = 999_000_001; body <= 999_999_999; body++) {
    const check = nhsCheckDigit(String(body));
    if (check !== undefined) yield `${body}${check}`;
  }
  throw new Error('the 999 test range has run out of valid NHS numbers');
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const pick = <T>(list: readonly T[], r: number): T => list[Math.floor(r * list.length) % list.length] as T;

/** A mistyped number: the last digit changed, which always fails the modulus-11 check. */
const mistyped = (nhs: string): string => `${nhs.slice(0, 9)}${(Number(nhs[9]) + 1) % 10}`;

/** A date of birth a day out, as a typo would make it. */
function dayOut(birthDate: string): string {
  const day = Number(birthDate.slice(8, 10));
  return `${birthDate.slice(0, 8)}${pad(day < 28 ? day + 1 : day - 1, 2)}`;
}

interface Person {
  readonly n: number;
  readonly nhs: string;
  readonly family: string;
  readonly given: string;
  readonly gender: 'male' | 'female';
  readonly birthDate: string;
  readonly postcode: string;
  readonly line: string;
}

function sourceRecord(person: Person, source: SourceName, localId: string, nhs: { value?: string; status?: NhsNumberVerification }, birthDate: string): Patient {
  const identifier: Identifier[] = [];
  if (nhs.value) {
    identifier.push({
      ...(nhs.status ? { extension: [{ url: NHS_NUMBER_VERIFICATION_EXTENSION, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: nhs.status }] } }] } : {}),
      system: NHS_NUMBER_SYSTEM,
      value: nhs.value,
    });
  }
  identifier.push({ system: `${IDENTITY_SOURCES[source]}/id/local`, value: localId });
  return {
    resourceType: 'Patient',
    id: resourceId('Patient', IDENTITY_SOURCES[source], localId),
    meta: { source: IDENTITY_SOURCES[source], profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'] },
    identifier,
    name: [{ use: 'official', family: person.family, given: [person.given] }],
    gender: person.gender,
    birthDate,
    address: [{ use: 'home', line: [person.line], city: 'Benchtown', postalCode: person.postcode }],
    ...(source === 'gp' ? { telecom: [{ system: 'phone' as const, value: `07700 9${pad(person.n % 100_000, 5)}`, use: 'mobile' as const }] } : {}),
  };
}

/** Exactly `count` source records (the last person may be cut short), for as many persons as that takes. */
export function identityDataset(count: number, seed = 20_261_123): IdentityDataset {
  const random = prng(seed);
  const numbers = testRangeNumbers();
  const lists: Record<SourceName, Patient[]> = { gp: [], hospital: [], council: [] };
  const mix = { verified: 0, unverified: 0, invalidNumber: 0, noNumber: 0, otherBirthDate: 0, duplicateRegistration: 0 };
  let total = 0;
  let persons = 0;
  for (let n = 0; total < count; n++) {
    persons++;
    const year = 1925 + Math.floor(random() * 100);
    const person: Person = {
      n,
      nhs: numbers.next().value as string,
      family: pick(FAMILIES, random()),
      given: pick(GIVEN, random()),
      gender: random() < 0.5 ? 'female' : 'male',
      birthDate: `${year}-${pad(1 + Math.floor(random() * 12), 2)}-${pad(1 + Math.floor(random() * 28), 2)}`,
      postcode: `ZZ${1 + (n % 9)} ${1 + (n % 9)}${String.fromCharCode(65 + (n % 26))}${String.fromCharCode(65 + ((n >> 5) % 26))}`,
      line: `${1 + (n % 200)} Sample Street`,
    };
    const r = random();
    const sources = PRESENCE.find(([p]) => r < p)?.[1] ?? ['gp'];
    for (const source of sources) {
      if (total >= count) break;
      if (source === 'gp') {
        lists.gp.push(sourceRecord(person, 'gp', `G${pad(n, 7)}`, { value: person.nhs, status: NhsNumberVerification.VERIFIED }, person.birthDate));
        mix.verified++;
        total++;
        continue;
      }
      const noNumber = random() < SHARE.noNumber[source];
      const invalid = !noNumber && random() < SHARE.invalidNumber[source];
      const otherBirthDate = random() < SHARE.otherBirthDate[source];
      const value = noNumber ? undefined : invalid ? mistyped(person.nhs) : person.nhs;
      const status = source === 'hospital' ? NhsNumberVerification.NOT_TRACED : undefined;
      const birthDate = otherBirthDate ? dayOut(person.birthDate) : person.birthDate;
      const prefix = source === 'hospital' ? 'H' : 'C';
      lists[source].push(sourceRecord(person, source, `${prefix}${pad(n, 7)}`, { value, status }, birthDate));
      total++;
      if (noNumber) mix.noNumber++;
      else mix.unverified++;
      if (invalid) mix.invalidNumber++;
      if (otherBirthDate) mix.otherBirthDate++;
      if (total < count && random() < SHARE.duplicateRegistration[source]) {
        // Registered a second time in the same system: a new local id, the same number and birth date.
        lists[source].push(sourceRecord(person, source, `${prefix}${pad(n, 7)}-2`, { value, status }, birthDate));
        total++;
        mix.duplicateRegistration++;
        if (noNumber) mix.noNumber++;
        else mix.unverified++;
      }
    }
  }
  const records: Patient[] = [];
  const bySource: { source: string; name: SourceName; start: number; end: number }[] = [];
  for (const name of SOURCE_ORDER) {
    bySource.push({ source: IDENTITY_SOURCES[name], name, start: records.length, end: records.length + lists[name].length });
    for (const record of lists[name]) records.push(record);
  }
  return { records, bySource, persons, mix };
}
