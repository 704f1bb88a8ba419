import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TABLES, type SocialCareTable } from '../../adapters/social-care/tables';
import { nhsCheckDigit } from '../../mappings/identity/nhs-number';

/**
 * Synthetic CareFirst-style extracts (`carebridge generate social-care`): invented people with NHS
 * numbers from the 999 test range, deterministic from a seed, every table of the contract with a
 * manifest whose counts and sha256 are right. Each person's rows come from their own seeded random
 * stream, so the first M people of an extract of N are the same people in an extract of M (the
 * retirement tests rely on it). `mess` adds every item of the contract's "Real-world mess" list;
 * what was injected is returned, so tests can check the import reported each of them.
 */
export interface GenerateOptions {
  readonly persons: number;
  readonly out: string;
  readonly mess?: boolean;
  readonly encoding?: 'utf-8' | 'windows-1252';
  readonly seed?: number;
  readonly type?: 'full' | 'delta';
  readonly extractedAt?: string;
  readonly sourceSystemUri?: string;
  readonly councilCode?: string;
  readonly councilName?: string;
}

export interface MessCounts {
  nhsNumberFormatted: number;
  nhsNumberInvalid: number;
  nhsNumberShared: number;
  impossibleDates: number;
  twoDigitYears: number;
  futureBirths: number;
  unknownCodes: number;
  unknownPersons: number;
  duplicateRows: number;
  quotedMultiline: number;
  trailingEmptyColumns: number;
  specialCharacters: number;
}

export interface GeneratedExtract {
  readonly dir: string;
  readonly rows: Record<string, number>;
  readonly totalRows: number;
  readonly mess: MessCounts;
}

export const DEFAULT_SOURCE = 'https://social-care.example-borough.gov.uk/carefirst';

/** mulberry32: small, fast, good enough for synthetic data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedFor(seed: number, person: number, table: number): number {
  return createHash('sha1').update(`${seed}|${person}|${table}`).digest().readUInt32LE(0);
}

const FORENAMES = ['Alex', 'Sam', 'Jo', 'Chris', 'Pat', 'Robin', 'Jamie', 'Morgan', 'Taylor', 'Jordan', 'Casey', 'Drew', 'Frankie', 'Lee', 'Ashley', 'Bobbie'];
const SPECIAL_FORENAMES = ['Siân', 'Zoë', 'Renée', 'Bronwen', 'Seán'];
const SURNAMES = ['Testperson', 'Example', 'Sample', 'Placeholder', 'Fictional', 'Madeup', 'Synthetic', 'Dummy', 'Invented', 'Imaginary'];
const SPECIAL_SURNAMES = ['O’Testperson', 'Ní Example', 'Sample-Smythe', 'D’Invented'];
const STREETS = ['High Street', 'Station Road', 'Church Lane', 'Mill Road', 'Park Avenue', 'The Green', 'Victoria Road'];
const TOWNS = ['Exampleton', 'Sampleford', 'Testbury', 'Mockley'];
const LANGUAGES = ['English', 'English', 'English', 'English', 'English', 'Polish', 'Urdu', 'Welsh', 'Punjabi', 'British Sign Language'];
const ETHNICITIES = 'ABCDEFGHJKLMNPRSZ'.split('');
const GP_PRACTICES = ['Y01234', 'Y02345', 'Y03456', 'Y04567', 'Y05678', 'Y06789'];
const CARE_HOMES = [
  { cqc: '1-000000101', name: 'Example Lodge Care Home' },
  { cqc: '1-000000102', name: 'Sample House Nursing Home' },
  { cqc: '1-000000103', name: 'Testbury Court' },
];
const PROVIDERS = [
  { cqc: '1-000000201', name: 'Example Home Care Ltd' },
  { cqc: '1-000000202', name: 'Sample Support Services' },
  { cqc: '1-000000203', name: 'Mockley Meals on Wheels' },
];
const TEAMS = [
  { id: 'T01', name: 'Hospital Discharge Team' },
  { id: 'T02', name: 'Older People North' },
  { id: 'T03', name: 'Older People South' },
  { id: 'T04', name: 'Reablement Team' },
  { id: 'T05', name: 'Learning Disabilities Team' },
  { id: 'T06', name: 'Occupational Therapy Team' },
];
const WORKER_ROLES = ['SOCIAL_WORKER', 'CARE_COORDINATOR', 'OCCUPATIONAL_THERAPIST', 'SOCIAL_CARE_ASSISTANT', 'REVIEWING_OFFICER', 'TEAM_MANAGER'];
const RELATIONSHIP_TYPES = ['MAIN_CARER', 'CARER', 'NEXT_OF_KIN', 'LPA_HEALTH_WELFARE', 'LPA_PROPERTY_FINANCE', 'COURT_DEPUTY', 'ADVOCATE', 'APPOINTEE', 'SPOUSE', 'CHILD', 'SIBLING', 'FRIEND', 'NEIGHBOUR'];
const REFERRAL_SOURCES = ['SELF', 'FAMILY', 'GP', 'HOSPITAL', 'COMMUNITY_HEALTH', 'SPA', 'POLICE', 'FIRE', 'HOUSING', 'VOLUNTARY', 'OTHER'];
const REFERRAL_OUTCOMES = ['ASSESSMENT', 'INFORMATION_ADVICE', 'SIGNPOSTED', 'NO_FURTHER_ACTION', 'OPEN'];
const ASSESSMENT_TYPES = ['NEEDS_ASSESSMENT', 'CARERS_ASSESSMENT', 'OT_ASSESSMENT', 'REVIEW', 'MENTAL_CAPACITY', 'CONTINUING_HEALTHCARE_CHECKLIST'];
const SERVICE_TYPES = ['HOME_CARE', 'REABLEMENT', 'DAY_CARE', 'RESPITE', 'RESIDENTIAL_CARE', 'NURSING_CARE', 'MEALS', 'TELECARE', 'EQUIPMENT', 'DIRECT_PAYMENT', 'SITTING_SERVICE'];
const SERVICE_UNITS: Record<string, string> = {
  HOME_CARE: 'HOURS_PER_WEEK', REABLEMENT: 'VISITS_PER_DAY', DAY_CARE: 'DAYS_PER_WEEK', RESPITE: 'NIGHTS', RESIDENTIAL_CARE: 'NIGHTS', NURSING_CARE: 'NIGHTS',
  MEALS: 'VISITS_PER_WEEK', TELECARE: 'ITEM', EQUIPMENT: 'ITEM', DIRECT_PAYMENT: 'HOURS_PER_WEEK', SITTING_SERVICE: 'HOURS_PER_WEEK',
};
const PLAN_TYPES = ['SUPPORT_PLAN', 'CONTINGENCY_PLAN', 'EMERGENCY_PLAN', 'CARERS_SUPPORT_PLAN'];
const PLAN_STATUSES = ['DRAFT', 'ACTIVE', 'ACTIVE', 'REVIEW_DUE', 'CLOSED'];
const ALERT_TYPES = ['SAFEGUARDING', 'LONE_WORKING_RISK', 'DOG_ON_PREMISES', 'KEY_SAFE', 'FALLS_RISK', 'DNACPR_IN_PLACE', 'DOMESTIC_ABUSE', 'FIRE_RISK', 'HOARDING', 'COMMUNICATION_NEEDS'];
const CONSENT_TYPES = ['SHARE_WITH_HEALTH', 'SHARE_WITH_VOLUNTARY_SECTOR', 'SHARE_WITH_CARER'];
const DECISIONS = ['GIVEN', 'GIVEN', 'GIVEN', 'REFUSED', 'WITHDRAWN', 'BEST_INTEREST'];

/** The n-th valid NHS number of the 999 test range, from a running counter (no search per call). */
class NhsNumbers {
  private body = 999_000_000;
  next(): string {
    for (;;) {
      this.body++;
      const check = nhsCheckDigit(String(this.body));
      if (check !== undefined) return `${this.body}${check}`;
    }
  }
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
const pad = (n: number): string => String(n).padStart(2, '0');
const ukDate = (y: number, m: number, d: number): string => `${pad(d)}/${pad(m)}/${y}`;
function randomDate(r: () => number, fromYear: number, toYear: number): { y: number; m: number; d: number } {
  return { y: fromYear + Math.floor(r() * (toYear - fromYear + 1)), m: 1 + Math.floor(r() * 12), d: 1 + Math.floor(r() * 28) };
}
const fmt = (x: { y: number; m: number; d: number }): string => ukDate(x.y, x.m, x.d);

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** windows-1252: latin-1 plus the 0x80–0x9F punctuation (curly quotes, dashes, euro). */
const CP1252_EXTRA: Record<string, number> = { '€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '–': 0x96, '—': 0x97, 'œ': 0x9c, 'Œ': 0x8c, 'ž': 0x9e, 'Ÿ': 0x9f };
export function encodeWindows1252(text: string): Buffer {
  const out = Buffer.alloc(text.length);
  let n = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 63;
    out[n++] = CP1252_EXTRA[ch] ?? (code < 256 ? code : 63);
  }
  return out.subarray(0, n);
}

type Row = Record<string, string>;

class TableWriter {
  private readonly fd: number;
  private buffer: string[] = [];
  private size = 0;
  rows = 0;
  constructor(
    path: string,
    private readonly columns: readonly string[],
    private readonly encoding: 'utf-8' | 'windows-1252',
    private readonly eol: string,
    bom: boolean,
    headerNames?: readonly string[],
  ) {
    this.fd = openSync(path, 'w');
    if (bom && encoding === 'utf-8') writeSync(this.fd, Buffer.from([0xef, 0xbb, 0xbf]));
    this.push((headerNames ?? columns).join(','));
  }
  private push(line: string): void {
    this.buffer.push(line + this.eol);
    this.size += line.length;
    if (this.size > 256 * 1024) this.drain();
  }
  private drain(): void {
    const text = this.buffer.join('');
    writeSync(this.fd, this.encoding === 'utf-8' ? Buffer.from(text, 'utf8') : encodeWindows1252(text));
    this.buffer = [];
    this.size = 0;
  }
  write(row: Row, trailing = 0): void {
    this.rows++;
    this.push(this.columns.map((c) => csvField(row[c] ?? '')).join(',') + ','.repeat(trailing));
  }
  close(): void {
    this.drain();
    closeSync(this.fd);
  }
}

const columnsOf = (table: SocialCareTable, delta: boolean): string[] => {
  const def = TABLES.find((t) => t.table === table);
  return (def?.columns ?? []).filter((c) => delta || c !== 'RECORD_STATUS');
};

export function generateSocialCareExtract(options: GenerateOptions): GeneratedExtract {
  const seed = options.seed ?? 1;
  const mess = options.mess ?? false;
  const encoding = options.encoding ?? 'utf-8';
  const delta = options.type === 'delta';
  const extractedAt = options.extractedAt ?? '2026-11-20T02:00:00Z';
  const extractYear = Number(extractedAt.slice(0, 4));
  mkdirSync(options.out, { recursive: true });
  const eol = mess ? '\r\n' : '\n';
  const counts: MessCounts = {
    nhsNumberFormatted: 0, nhsNumberInvalid: 0, nhsNumberShared: 0, impossibleDates: 0, twoDigitYears: 0, futureBirths: 0,
    unknownCodes: 0, unknownPersons: 0, duplicateRows: 0, quotedMultiline: 0, trailingEmptyColumns: 0, specialCharacters: 0,
  };
  const writers = new Map<SocialCareTable, TableWriter>();
  for (const t of TABLES) {
    const cols = columnsOf(t.table, delta);
    // Mess: column names in mixed case, and an unknown legacy column, on the persons header.
    const header = mess && t.table === 'persons' ? [...cols.map((c, i) => (i === 0 ? 'Person_Id' : c)), 'LEGACY_REF'] : undefined;
    const columns = header ? [...cols, 'LEGACY_REF'] : cols;
    writers.set(t.table, new TableWriter(join(options.out, t.file), columns, encoding, eol, mess && t.table === 'persons', header));
  }
  const w = (t: SocialCareTable): TableWriter => writers.get(t) as TableWriter;
  const status: Row = delta ? { RECORD_STATUS: 'U' } : {};
  const nhs = new NhsNumbers();
  let previousNhs = '';
  const workers = Math.max(3, Math.ceil(options.persons / 40));

  for (let i = 0; i < options.persons; i++) {
    const personId = String(100000 + i);
    const r = rng(seedFor(seed, i, 0));
    const messy = mess && i % 10 === 3;
    let nhsNumber = nhs.next();
    const verified = r() < 0.7;
    let nhsText = nhsNumber;
    let dob = fmt(randomDate(r, 1925, 1965));
    if (messy) {
      switch (Math.floor(i / 10) % 7) {
        case 0:
          nhsText = `${nhsNumber.slice(0, 3)} ${nhsNumber.slice(3, 6)} ${nhsNumber.slice(6)}`;
          counts.nhsNumberFormatted++;
          break;
        case 1:
          nhsNumber = `${nhsNumber.slice(0, 9)}${(Number(nhsNumber[9]) + 1) % 10}`;
          nhsText = nhsNumber;
          counts.nhsNumberInvalid++;
          break;
        case 2:
          if (previousNhs) {
            nhsText = previousNhs;
            counts.nhsNumberShared++;
          }
          break;
        case 3:
          dob = '31/02/1940';
          counts.impossibleDates++;
          break;
        case 4:
          dob = `${dob.slice(0, 6)}${dob.slice(8)}`;
          counts.twoDigitYears++;
          break;
        case 5:
          dob = ukDate(extractYear + 1, 3, 14);
          counts.futureBirths++;
          break;
        default:
          nhsText = `${nhsNumber.slice(0, 3)}-${nhsNumber.slice(3, 6)}-${nhsNumber.slice(6)}`;
          counts.nhsNumberFormatted++;
      }
    }
    previousNhs = nhsNumber;
    const special = mess && i % 10 === 7;
    if (special) counts.specialCharacters++;
    const careHome = r() < 0.12 ? pick(r, CARE_HOMES) : undefined;
    const accommodation = careHome ? (r() < 0.5 ? 'RESIDENTIAL_HOME' : 'NURSING_HOME') : pick(r, ['OWN_HOME', 'OWN_HOME', 'OWN_HOME', 'SHELTERED', 'EXTRA_CARE']);
    const gender = pick(r, ['M', 'F', 'F', 'M', 'U', 'I', 'O']);
    const unknownGender = mess && i % 50 === 11;
    if (unknownGender) counts.unknownCodes++;
    w('persons').write(
      {
        ...status,
        PERSON_ID: personId,
        NHS_NUMBER: nhsText,
        NHS_NUMBER_VERIFIED: verified ? 'Y' : pick(r, ['N', '']),
        TITLE: pick(r, ['Mr', 'Mrs', 'Ms', 'Miss', 'Mx', 'Dr']),
        FORENAME: special ? pick(r, SPECIAL_FORENAMES) : pick(r, FORENAMES),
        MIDDLE_NAMES: r() < 0.3 ? pick(r, FORENAMES) : '',
        SURNAME: special ? pick(r, SPECIAL_SURNAMES) : `${pick(r, SURNAMES)}${i}`,
        PREFERRED_NAME: r() < 0.1 ? pick(r, FORENAMES) : '',
        DATE_OF_BIRTH: dob,
        DATE_OF_DEATH: r() < 0.02 ? fmt(randomDate(r, 2024, 2025)) : '',
        GENDER: unknownGender ? 'X' : gender,
        ETHNICITY: pick(r, ETHNICITIES),
        FIRST_LANGUAGE: pick(r, LANGUAGES),
        INTERPRETER_REQUIRED: r() < 0.05 ? 'Y' : 'N',
        ADDRESS_LINE_1: careHome ? careHome.name : `${1 + Math.floor(r() * 200)} ${pick(r, STREETS)}`,
        ADDRESS_LINE_2: r() < 0.3 ? 'Flat 2' : '',
        ADDRESS_LINE_3: pick(r, TOWNS),
        ADDRESS_LINE_4: '',
        POSTCODE: `ZZ${1 + Math.floor(r() * 9)} ${1 + Math.floor(r() * 9)}ZZ`,
        ACCOMMODATION_TYPE: accommodation,
        CARE_HOME_NAME: careHome?.name ?? '',
        CARE_HOME_CQC_ID: careHome?.cqc ?? '',
        TELEPHONE: `01632 ${String(100000 + Math.floor(r() * 899999))}`,
        MOBILE: r() < 0.5 ? `07700 ${String(900000 + Math.floor(r() * 99999))}` : '',
        EMAIL: r() < 0.2 ? `person${i}@example.invalid` : '',
        GP_PRACTICE_CODE: pick(r, GP_PRACTICES),
        LIVES_ALONE: pick(r, ['Y', 'N', '']),
        LAST_UPDATED: `${fmt(randomDate(r, 2025, 2026))} ${pad(Math.floor(r() * 24))}:${pad(Math.floor(r() * 60))}`,
        LEGACY_REF: mess ? `L${i}` : '',
      },
      mess && i % 25 === 9 ? (counts.trailingEmptyColumns++, 2) : 0,
    );
    writeRowsOfPerson(i, personId, seed, mess, counts, w, status, workers);
  }
  if (mess) {
    // Rows for people the extract does not hold: rejected and reported.
    const unknown = Math.max(1, Math.floor(options.persons / 100));
    for (let k = 0; k < unknown; k++) {
      w('alerts').write({ ...status, ALERT_ID: `AL-X${k}`, PERSON_ID: String(900000 + k), ALERT_TYPE: 'FALLS_RISK', DESCRIPTION: 'Orphan row', START_DATE: '01/01/2025', SENSITIVE: 'N' });
      counts.unknownPersons++;
    }
  }
  for (const writer of writers.values()) writer.close();
  const files: Record<string, { rows: number; sha256: string }> = {};
  const rows: Record<string, number> = {};
  let totalRows = 0;
  for (const t of TABLES) {
    const writer = w(t.table);
    const bytes = readFileSync(join(options.out, t.file));
    files[t.file] = { rows: writer.rows, sha256: createHash('sha256').update(bytes).digest('hex') };
    rows[t.file] = writer.rows;
    totalRows += writer.rows;
  }
  const manifest = {
    source: 'carefirst',
    sourceSystemUri: options.sourceSystemUri ?? DEFAULT_SOURCE,
    organisation: { code: options.councilCode ?? 'E09000004', name: options.councilName ?? 'Example Borough Council Adult Social Care' },
    extractedAt,
    type: options.type ?? 'full',
    encoding,
    files,
  };
  writeFileSync(join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir: options.out, rows, totalRows, mess: counts };
}

function writeRowsOfPerson(
  i: number,
  personId: string,
  seed: number,
  mess: boolean,
  counts: MessCounts,
  w: (t: SocialCareTable) => TableWriter,
  status: Record<string, string>,
  workers: number,
): void {
  // Relationships: about one per person.
  let r = rng(seedFor(seed, i, 1));
  const nRel = r() < 0.7 ? 1 : r() < 0.5 ? 2 : 0;
  for (let k = 0; k < nRel; k++) {
    const start = randomDate(r, 2015, 2025);
    w('relationships').write({
      ...status,
      RELATIONSHIP_ID: `R${personId}-${k}`,
      PERSON_ID: personId,
      RELATED_PERSON_ID: r() < 0.05 && i > 0 ? String(100000 + i - 1) : '',
      RELATIONSHIP_TYPE: k === 0 ? pick(r, ['MAIN_CARER', 'NEXT_OF_KIN', 'SPOUSE', 'CHILD']) : pick(r, RELATIONSHIP_TYPES),
      FORENAME: pick(r, FORENAMES),
      SURNAME: `${pick(r, SURNAMES)}${i}`,
      TELEPHONE: `01632 ${String(100000 + Math.floor(r() * 899999))}`,
      ADDRESS: mess && i % 20 === 1 ? (counts.quotedMultiline++, `${1 + k} ${pick(r, STREETS)},\n${pick(r, TOWNS)}`) : `${1 + k} ${pick(r, STREETS)}, ${pick(r, TOWNS)}`,
      POSTCODE: `ZZ${1 + Math.floor(r() * 9)} ${1 + Math.floor(r() * 9)}ZZ`,
      CARER_ASSESSMENT_OFFERED: pick(r, ['Y', 'N', '']),
      START_DATE: fmt(start),
      END_DATE: r() < 0.1 ? fmt(randomDate(r, 2025, 2026)) : '',
    });
  }
  // Allocations: most people have a current worker; some a finished one too.
  r = rng(seedFor(seed, i, 2));
  const nAlloc = r() < 0.75 ? 1 : r() < 0.6 ? 2 : 0;
  for (let k = 0; k < nAlloc; k++) {
    const worker = Math.floor(r() * workers);
    const team = TEAMS[worker % TEAMS.length] as (typeof TEAMS)[number];
    const start = randomDate(r, 2022, 2026);
    const ended = k === 1 && r() < 0.6;
    w('allocations').write({
      ...status,
      ALLOCATION_ID: `AL${personId}-${k}`,
      PERSON_ID: personId,
      WORKER_ID: `W${String(worker).padStart(4, '0')}`,
      WORKER_NAME: `${FORENAMES[worker % FORENAMES.length] ?? 'Sam'} Worker${worker}`,
      WORKER_ROLE: WORKER_ROLES[worker % WORKER_ROLES.length] ?? 'SOCIAL_WORKER',
      WORKER_PHONE: `020 7946 ${String(1000 + worker).slice(-4)}`,
      WORKER_EMAIL: `worker${worker}@example-borough.gov.uk`,
      TEAM_ID: team.id,
      TEAM_NAME: team.name,
      ALLOCATION_TYPE: k === 0 ? 'CARE_COORDINATOR' : pick(r, ['KEY_WORKER', 'INVOLVED']),
      START_DATE: ukDate(start.y > 2025 ? 2025 : start.y, start.m, start.d),
      END_DATE: ended ? '30/09/2026' : '',
    });
  }
  // Referrals: one each.
  r = rng(seedFor(seed, i, 3));
  const team = pick(r, TEAMS);
  w('referrals').write({
    ...status,
    REFERRAL_ID: `RF${personId}`,
    PERSON_ID: personId,
    RECEIVED_DATE: fmt(randomDate(r, 2020, 2025)),
    SOURCE: pick(r, REFERRAL_SOURCES),
    REASON: pick(r, ['Struggling with personal care', 'Hospital discharge, needs support at home', 'Carer breakdown', 'Falls at home']),
    PRIORITY: pick(r, ['URGENT', 'ROUTINE', 'ROUTINE']),
    TEAM_ID: team.id,
    TEAM_NAME: team.name,
    OUTCOME: pick(r, REFERRAL_OUTCOMES),
    OUTCOME_DATE: fmt(randomDate(r, 2025, 2025)),
  });
  // Assessments: one or two, with a RAG rating.
  r = rng(seedFor(seed, i, 4));
  const nAss = r() < 0.5 ? 1 : 2;
  for (let k = 0; k < nAss; k++) {
    const start = randomDate(r, 2023, 2025);
    const completed = r() < 0.8;
    const row: Row = {
      ...status,
      ASSESSMENT_ID: `AS${personId}-${k}`,
      PERSON_ID: personId,
      ASSESSMENT_TYPE: pick(r, ASSESSMENT_TYPES),
      STATUS: completed ? 'COMPLETED' : 'IN_PROGRESS',
      START_DATE: fmt(start),
      COMPLETED_DATE: completed ? ukDate(start.y, start.m, Math.min(28, start.d + 7)) : '',
      ELIGIBLE: completed ? pick(r, ['Y', 'N']) : '',
      RISK_RAG: pick(r, ['R', 'A', 'G', 'G', '']),
      OUTCOME: completed ? pick(r, ['Eligible needs identified', 'Needs met by family', 'Services arranged']) : '',
      SUMMARY: mess && i % 20 === 5 ? (counts.quotedMultiline++, 'Needs help with "washing, dressing"\nand meals.') : 'Needs help with washing and dressing.',
      WORKER_ID: `W${String(Math.floor(r() * workers)).padStart(4, '0')}`,
    };
    w('assessments').write(row);
    if (mess && k === 0 && i % 40 === 13) {
      // The same assessment twice: the later row wins.
      w('assessments').write({ ...row, RISK_RAG: 'R', OUTCOME: 'Revised' });
      counts.duplicateRows++;
    }
  }
  // Services: about two lines of a care package.
  r = rng(seedFor(seed, i, 5));
  const nSvc = r() < 0.2 ? 0 : r() < 0.6 ? 2 : 3;
  for (let k = 0; k < nSvc; k++) {
    const type = pick(r, SERVICE_TYPES);
    const provider = pick(r, PROVIDERS);
    const suspended = r() < 0.08;
    const unknownType = mess && k === 0 && i % 30 === 17;
    if (unknownType) counts.unknownCodes++;
    w('services').write({
      ...status,
      SERVICE_ID: `SV${personId}-${k}`,
      PERSON_ID: personId,
      SERVICE_TYPE: unknownType ? 'LAUNDRY' : type,
      PROVIDER_NAME: provider.name,
      PROVIDER_CQC_ID: provider.cqc,
      START_DATE: fmt(randomDate(r, 2023, 2025)),
      END_DATE: '',
      QUANTITY: String(1 + Math.floor(r() * 14)),
      UNIT: SERVICE_UNITS[type] ?? 'ITEM',
      STATUS: suspended ? 'SUSPENDED' : pick(r, ['ACTIVE', 'ACTIVE', 'ACTIVE', 'PLANNED']),
      SUSPENSION_REASON: suspended ? 'HOSPITAL_ADMISSION' : '',
      NOTES: r() < 0.2 ? 'Key worker to review, twice daily calls' : '',
    });
  }
  // Care plans: one.
  r = rng(seedFor(seed, i, 6));
  if (r() < 0.9) {
    w('care_plans').write({
      ...status,
      PLAN_ID: `PL${personId}`,
      PERSON_ID: personId,
      PLAN_TYPE: pick(r, PLAN_TYPES),
      STATUS: pick(r, PLAN_STATUSES),
      START_DATE: fmt(randomDate(r, 2023, 2025)),
      REVIEW_DATE: fmt(randomDate(r, 2026, 2027)),
      SUMMARY: 'If the main carer is unwell, call the duty team; emergency respite at Example Lodge.',
      AUTHOR_WORKER_ID: `W${String(Math.floor(r() * workers)).padStart(4, '0')}`,
    });
  }
  // Alerts: about one in two.
  r = rng(seedFor(seed, i, 7));
  if (r() < 0.5) {
    const type = pick(r, ALERT_TYPES);
    const unknownType = mess && i % 30 === 23;
    if (unknownType) counts.unknownCodes++;
    w('alerts').write({
      ...status,
      ALERT_ID: `AL${personId}`,
      PERSON_ID: personId,
      ALERT_TYPE: unknownType ? 'KEYSAFE_CODE' : type,
      DESCRIPTION: type === 'KEY_SAFE' || unknownType ? 'Key safe by the back door' : 'See case notes',
      START_DATE: fmt(randomDate(r, 2020, 2025)),
      END_DATE: '',
      SENSITIVE: pick(r, ['N', 'N', 'Y']),
    });
  }
  // Consents: one.
  r = rng(seedFor(seed, i, 8));
  const decision = pick(r, DECISIONS);
  w('consents').write({
    ...status,
    CONSENT_ID: `CN${personId}`,
    PERSON_ID: personId,
    CONSENT_TYPE: pick(r, CONSENT_TYPES),
    DECISION: decision,
    DECISION_DATE: fmt(randomDate(r, 2022, 2025)),
    HAS_CAPACITY: decision === 'BEST_INTEREST' ? 'N' : 'Y',
    DECISION_MAKER: decision === 'BEST_INTEREST' ? 'BEST_INTEREST_MEETING' : 'PERSON',
    RECORDED_BY_WORKER_ID: `W${String(Math.floor(r() * workers)).padStart(4, '0')}`,
    NOTES: '',
  });
}
