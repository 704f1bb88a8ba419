import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Registry } from 'prom-client';
import { bundleKey, GP_INBOX_KIND, gpInboxHandler } from '../gateway/gp/apply';
import { GpIntake } from '../gateway/gp/intake';
import { startHl7Feed } from '../gateway/hl7v2/feed';
import { processInboxItem } from '../gateway/ingest/inbox-processor';
import { createLogger } from '../gateway/logger';
import { runCliImport } from '../gateway/cli/social-care-command';
import { generateSocialCareExtract } from '../gateway/social-care/generator';
import type { Store } from '../gateway/store/store';
import { mapGpBundle } from '../mappings/gp/map-bundle';
import { syntheticGpRecord } from './gp-record';

/**
 * The people of the viewer benchmark, each with a realistic record from three kinds of source,
 * written through the real intake paths on one store:
 *
 *   social care  a synthetic CareFirst-style extract (`carebridge generate social-care`) of
 *                `population` persons, imported as `carebridge import social-care` does
 *                (runCliImport); the others are the store's background population;
 *   GP           for each chosen person a GP Connect structured record of about 300 items
 *                (bench/gp-record.ts) with that person's NHS number, date of birth and name,
 *                registered at the development GP persona's practice (Y90001), through
 *                GpIntake.receive and the inbox handler;
 *   hospitals    20 encounters across four hospitals (A01 then A03 with a diagnosis; the last
 *                still in progress) and an MDM T02 discharge summary, through the real HL7 feed
 *                (intake to the inbox, the in-process batched worker).
 *
 * The persons chosen have a "full" social care record: a row in every table of the extract, a
 * verified NHS number (so the three sources link as one person), consent to share given, and a
 * non-sensitive alert, so the GP's record page has something in every section.
 */
export const ENCOUNTERS_PER_PERSON = 20;
export const GP_PRACTICE = { ods: 'Y90001', name: 'Demo Lane Surgery' } as const;
const HOSPITALS = ['RZZ', 'RYY', 'RXX', 'RWW'] as const;
const TABLES = ['relationships', 'allocations', 'referrals', 'assessments', 'services', 'care_plans', 'alerts', 'consents'] as const;

export interface ViewerPerson {
  readonly socialCareId: string;
  readonly nhsNumber: string;
  /** YYYY-MM-DD. */
  readonly birthDate: string;
  readonly family: string;
  readonly given: string;
  readonly gender: 'M' | 'F';
  /** Rows of this person in the extract, per table (persons excluded). */
  readonly socialCareRows: Readonly<Record<string, number>>;
}

export interface ViewerPopulation {
  readonly persons: readonly ViewerPerson[];
  readonly population: number;
  readonly socialCareRows: number;
  readonly gpResourcesPerRecord: number;
  readonly hl7Messages: number;
  readonly resources: number;
}

type Row = Record<string, string>;
const readTable = (dir: string, table: string): Row[] => parse<Row>(readFileSync(join(dir, `${table}.csv`)), { columns: true, skip_empty_lines: true });
const isoDate = (uk: string): string => `${uk.slice(6, 10)}-${uk.slice(3, 5)}-${uk.slice(0, 2)}`;

/** The `count` persons of the extract with the fullest records that can be one person across sources. */
function choosePersons(dir: string, count: number): ViewerPerson[] {
  const byPerson = new Map<string, Record<string, Row[]>>();
  for (const table of TABLES) {
    for (const row of readTable(dir, table)) {
      const id = row['PERSON_ID'] ?? '';
      const tables = byPerson.get(id) ?? {};
      (tables[table] ??= []).push(row);
      byPerson.set(id, tables);
    }
  }
  const candidates: (ViewerPerson & { rows: number })[] = [];
  for (const p of readTable(dir, 'persons')) {
    const id = p['PERSON_ID'] ?? '';
    const tables = byPerson.get(id) ?? {};
    const full = TABLES.every((t) => (tables[t]?.length ?? 0) > 0);
    const shares = tables['consents']?.every((c) => c['DECISION'] === 'GIVEN') ?? false;
    const plainAlerts = tables['alerts']?.every((a) => a['SENSITIVE'] === 'N') ?? false;
    const gender = p['GENDER'];
    if (!full || !shares || !plainAlerts || p['NHS_NUMBER_VERIFIED'] !== 'Y' || p['DATE_OF_DEATH'] || (gender !== 'M' && gender !== 'F')) continue;
    const socialCareRows = Object.fromEntries(TABLES.map((t) => [t, tables[t]?.length ?? 0]));
    candidates.push({
      socialCareId: id,
      nhsNumber: p['NHS_NUMBER'] ?? '',
      birthDate: isoDate(p['DATE_OF_BIRTH'] ?? ''),
      family: p['SURNAME'] ?? '',
      given: p['FORENAME'] ?? '',
      gender,
      socialCareRows,
      rows: Object.values(socialCareRows).reduce((n, k) => n + k, 0),
    });
  }
  candidates.sort((a, b) => b.rows - a.rows || a.socialCareId.localeCompare(b.socialCareId));
  if (candidates.length < count) throw new Error(`viewer bench: only ${String(candidates.length)} persons of the extract have a full social care record; generate a larger population`);
  return candidates.slice(0, count).map(({ rows: _rows, ...person }) => person);
}

/** The GP record of bench/gp-record.ts, made this person's and registered at the GP persona's practice. */
export function gpRecordOf(person: ViewerPerson, n: number): Buffer {
  const { bundle } = syntheticGpRecord(n);
  for (const entry of bundle['entry'] as { resource: Record<string, unknown> }[]) {
    const r = entry.resource;
    if (r['resourceType'] === 'Patient') {
      r['identifier'] = [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: person.nhsNumber }];
      r['birthDate'] = person.birthDate;
      r['name'] = [{ use: 'official', family: person.family, given: [person.given] }];
      r['gender'] = person.gender === 'F' ? 'female' : 'male';
    }
    if (r['resourceType'] === 'Organization') {
      r['identifier'] = [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: GP_PRACTICE.ods }];
      r['name'] = GP_PRACTICE.name;
    }
  }
  return Buffer.from(JSON.stringify(bundle));
}

/** HL7 v2 TS of an instant (UTC fields; the sender's default zone reads them as UK time, a shift that does not matter here). */
const hl7Time = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace(/[-T:]/g, '');

function pv1Segment(fields: Readonly<Record<number, string>>): string {
  const last = Math.max(...Object.keys(fields).map(Number));
  return ['PV1', '1', ...Array.from({ length: last - 1 }, (_, i) => fields[i + 2] ?? '')].join('|');
}

/** The hospitals' messages for one person: ENCOUNTERS_PER_PERSON stays, the last still open, and a discharge summary of the last finished one. */
export function hospitalMessages(person: ViewerPerson, n: number, now: Date): Buffer[] {
  const messages: string[] = [];
  const day = 86_400_000;
  let serial = 0;
  const msh = (facility: string, at: number, type: string): string => `MSH|^~\\&|PAS|${facility}|CAREBRIDGE|CAREBRIDGE|${hl7Time(at)}||${type}|VB${String(n).padStart(3, '0')}-${String(serial++).padStart(4, '0')}|P|2.4`;
  for (let k = 0; k < ENCOUNTERS_PER_PERSON; k++) {
    const facility = HOSPITALS[k % HOSPITALS.length] as string;
    const open = k === ENCOUNTERS_PER_PERSON - 1;
    const admitted = now.getTime() - (open ? 2 * day : (ENCOUNTERS_PER_PERSON - k) * 36 * day) + n * 60_000;
    const discharged = admitted + (2 + (k % 5)) * day;
    const pid = `PID|1||${facility}M${String(n).padStart(5, '0')}^^^${facility}^MR~${person.nhsNumber}^^^NHS^NH||${person.family.toUpperCase()}^${person.given}^^^^^L||${person.birthDate.replace(/-/g, '')}|${person.gender}|||${String(1 + n)} Example Road^Testtown^^^ZZ1 1AA^GBR^H||||||||||||||||||||01`;
    const ward = `WARD${String(1 + (k % 9))}^BAY${String(1 + (k % 4))}^BED${String(1 + (k % 6))}^${facility}^^^^^Ward ${String(1 + (k % 9))} Bay ${String(1 + (k % 4))} Bed ${String(1 + (k % 6))}`;
    const consultant = `C${String(1_000_000 + k)}^Consultant^Casey^^^Dr^^^${facility}`;
    // PV1-2 class, -3 location, -4 admission type, -7 attending, -10 service, -19 visit number, -36 discharge disposition, -44/-45 admit/discharge (HL7 v2.4 §3.4.3).
    const visit = `V${facility}${String(n).padStart(3, '0')}${String(k).padStart(2, '0')}^^^${facility}^VN`;
    const pv1 = (discharged?: number): string => pv1Segment({ 2: 'I', 3: ward, 4: '21', 7: consultant, 10: '300', 19: visit, 36: discharged ? '01' : '', 44: hl7Time(admitted), 45: discharged ? hl7Time(discharged) : '' });
    messages.push([msh(facility, admitted, 'ADT^A01^ADT_A01'), `EVN|A01|${hl7Time(admitted)}`, pid, pv1()].join('\r'));
    if (open) continue;
    messages.push([msh(facility, discharged, 'ADT^A03^ADT_A03'), `EVN|A03|${hl7Time(discharged)}`, pid, pv1(discharged), `DG1|1||J18.9^Pneumonia, unspecified^I10||${hl7Time(discharged)}|F`].join('\r'));
    if (k === ENCOUNTERS_PER_PERSON - 2) {
      const at = discharged + 3_600_000;
      messages.push(
        [
          msh(facility, at, 'MDM^T02^MDM_T02'),
          `EVN|T02|${hl7Time(at)}`,
          pid,
          pv1(discharged),
          `TXA|1|DS|TX|${hl7Time(at)}|${consultant}|${hl7Time(at)}||||||DOC-V${String(n)}-${String(k)}^PAS|||||AU|U|AV`,
          'OBX|1|TX|DS^Discharge summary||Community acquired pneumonia, treated; completed oral antibiotics in hospital.||||||F',
          'OBX|2|TX|DS^Discharge summary||Follow-up: GP review in 2 weeks.||||||F',
        ].join('\r'),
      );
    }
  }
  return messages.map((m) => Buffer.from(`${m}\r`, 'latin1'));
}

async function inboxCounts(store: Store): Promise<Record<string, number>> {
  const rows = await store.engine.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM inbox GROUP BY status');
  return Object.fromEntries(rows.rows.map((r) => [r.status, r.n]));
}

/** Writes the population into `store` through the real intakes; returns the chosen persons. */
export async function populateViewerStore(store: Store, options: { persons: number; population: number; workDir: string; now: Date; log: (message: string) => void }): Promise<ViewerPopulation> {
  const { log } = options;
  const logger = createLogger('silent');
  const extractDir = join(options.workDir, 'social-care-extract');
  const extract = generateSocialCareExtract({ persons: options.population, out: extractDir, seed: 8 });
  const persons = choosePersons(extractDir, options.persons);
  log(`viewer: social care extract of ${options.population.toLocaleString('en-GB')} persons (${extract.totalRows.toLocaleString('en-GB')} rows), imported as \`carebridge import social-care\` does…`);
  const imported = await runCliImport(store, extractDir, { report: join(options.workDir, 'social-care-report.json') });
  if (imported.summary.status === 'rejected') throw new Error('viewer bench: the social care extract was rejected');

  log(`viewer: ${String(persons.length)} GP Connect records of about 300 items through GpIntake and the inbox handler…`);
  const gp = new GpIntake({ store, queue: { enqueue: () => Promise.resolve(), depth: () => Promise.resolve(0), close: () => Promise.resolve() }, logger });
  let gpResourcesPerRecord = 0;
  for (const [n, person] of persons.entries()) {
    const content = gpRecordOf(person, n);
    const received = await gp.receive(content);
    if (!received.inboxId) throw new Error(`viewer bench: GP record ${String(n)} was refused at intake (${received.status})`);
    const result = await processInboxItem(store, received.inboxId, { [GP_INBOX_KIND]: gpInboxHandler() }, { maxAttempts: 1 });
    if (result !== 'done') throw new Error(`viewer bench: GP record ${String(n)} was not applied: ${result}`);
    if (n === 0) gpResourcesPerRecord = mapGpBundle(JSON.parse(content.toString('utf8')) as unknown, { receivedAt: options.now.toISOString(), bundleKey: bundleKey(content) }).resources.length;
  }

  const messages = persons.flatMap((person, n) => hospitalMessages(person, n, options.now));
  log(`viewer: ${messages.length.toLocaleString('en-GB')} HL7 messages (${String(ENCOUNTERS_PER_PERSON)} stays each across ${String(HOSPITALS.length)} hospitals, a discharge summary) through the hospital feed's intake and batched worker…`);
  const feed = await startHl7Feed({ store, logger, registry: new Registry(), listenMllp: false, mllpPort: 0, runWorkers: true });
  try {
    for (const message of messages) {
      const outcome = await feed.intake.receive(message);
      if (outcome.code !== 'AA') throw new Error(`viewer bench: an HL7 message was answered ${outcome.code}`);
    }
    const until = Date.now() + 120_000;
    for (;;) {
      const counts = await inboxCounts(store);
      if ((counts['failed'] ?? 0) + (counts['dead'] ?? 0) > 0) throw new Error(`viewer bench: inbox rows failed: ${JSON.stringify(counts)}`);
      if ((counts['pending'] ?? 0) + (counts['retry'] ?? 0) === 0) break;
      if (Date.now() > until) throw new Error(`viewer bench: the HL7 messages were not applied in time: ${JSON.stringify(counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await feed.close();
  }
  const total = (await store.engine.query<{ n: number }>('SELECT count(*)::int AS n FROM resource')).rows[0]?.n ?? 0;
  return { persons, population: options.population, socialCareRows: extract.totalRows, gpResourcesPerRecord, hl7Messages: messages.length, resources: total };
}
