import { join } from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { Registry } from 'prom-client';
import { openExtract } from '../adapters/social-care/extract-files';
import { GP_INBOX_KIND, gpInboxHandler, mapStoredBundle } from '../gateway/gp/apply';
import { GpIntake } from '../gateway/gp/intake';
import { hl7InboxHandler } from '../gateway/hl7v2/apply';
import { startHl7Feed } from '../gateway/hl7v2/feed';
import { HL7_INBOX_KIND } from '../gateway/hl7v2/intake';
import { loadSenderDirectory } from '../gateway/hl7v2/senders';
import { samePersonIds } from '../gateway/identity/resolver';
import { processInboxItem } from '../gateway/ingest/inbox-processor';
import { createLogger } from '../gateway/logger';
import { DEFAULT_SOURCE, generateSocialCareExtract } from '../gateway/social-care/generator';
import { importExtract } from '../gateway/social-care/importer';
import { createImport, ImportOrigin, ImportStatus } from '../gateway/social-care/imports';
import { parseStoredResource } from '../gateway/store/resource-reader';
import type { Store } from '../gateway/store/store';
import { NHS_NUMBER_SYSTEM } from '../mappings/identity/nhs-number';
import { ODS_ORGANIZATION_SYSTEM } from '../mappings/identifiers';
import { syntheticGpRecord } from './gp-record';
import { MLLP_BENCH_SENDER } from './mllp-data';

/**
 * Realistic shared records for the access benchmark's $everything: synthetic people known to three
 * sources, each arriving through its real intake path. The council's social care extract (the
 * generator of `carebridge generate social-care`, imported by importExtract) gives the people;
 * each then gets a GP Connect structured record of about 300 resources from their registered
 * practice (bench/gp-record.ts, set to the person's NHS number and birth date and to `practiceOds`,
 * through GpIntake and the GP inbox handler), and hospital stays over HL7v2 (A01 admission, A03
 * discharge with a diagnosis, through Hl7Intake and the HL7 inbox handler). Identity resolution
 * links the three, as it would in production.
 */
export interface RealisticPerson {
  /** The GP record's Patient: the record a GP opens. */
  readonly gpPatientId: string;
  /** Every source record of the person (and the person-level Patient). */
  readonly personIds: readonly string[];
  /** Resources in the person's compartment, all sources together. */
  readonly resources: number;
  /** meta.source → resources in the compartment. */
  readonly bySource: Readonly<Record<string, number>>;
}

const HOSPITAL_STAYS = 6;

const hl7Date = (iso: string): string => iso.replace(/-/g, '');
const hl7Time = (minutes: number): string => new Date(Date.UTC(2025, 0, 1) + minutes * 60_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');

/** One stay: admission, then discharge with a diagnosis (the layout of bench/mllp-data.ts). */
function hospitalStay(person: number, stay: number, nhsNumber: string, birthDate: string, sex: string): Buffer[] {
  const admitted = (person * HOSPITAL_STAYS + stay) * 20_000;
  const mrn = `AB${String(person).padStart(8, '0')}`;
  const visit = `AV${String(person).padStart(6, '0')}${String(stay).padStart(2, '0')}`;
  const pid = `PID|1||${mrn}^^^RZZ^MR~${nhsNumber}^^^NHS^NH||ACCESSBENCH${String(person)}^Sam^^^Mx^^L||${hl7Date(birthDate)}|${sex}|||${String(1 + person)} Example Road^Testtown^^^ZZ1 1AA^GBR^H||||||||||||||||||||01`;
  const ward = `WARD${String(1 + (stay % 8))}^BAY1^BED${String(1 + (stay % 4))}^RZZ`;
  const message = (trigger: 'A01' | 'A03', at: number, extra: string[]): Buffer => {
    const when = hl7Time(at);
    const discharge = trigger === 'A03' ? `|${when}` : '';
    const segments = [
      `MSH|^~\\&|${MLLP_BENCH_SENDER.application}|${MLLP_BENCH_SENDER.facility}|CAREBRIDGE|CAREBRIDGE|${when}||ADT^${trigger}^ADT_${trigger}|ACB-${visit}-${trigger}|P|2.4`,
      `EVN|${trigger}|${when}||||${when}`,
      pid,
      `PV1|1|I|${ward}|21|||C1000001^Consultant^Casey^^^Dr^^^RZZ||||||||||||${visit}^^^RZZ^VN|||||||||||||||||${trigger === 'A03' ? '1|54' : '|'}|||||||${hl7Time(admitted)}${discharge}`,
      ...extra,
    ];
    return Buffer.from(`${segments.join('\r')}\r`, 'latin1');
  };
  const discharged = admitted + 4 * 24 * 60;
  return [message('A01', admitted, []), message('A03', discharged, [`DG1|1||J18.9^Pneumonia, unspecified^I10||${hl7Time(discharged)}|F`])];
}

type Json = Record<string, unknown>;

/** The synthetic GP record set to this person (NHS number, birth date) and this practice. */
function gpRecordFor(person: number, patient: Patient, practiceOds: string): Buffer {
  const { bundle } = syntheticGpRecord(person);
  const nhsNumber = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
  for (const entry of bundle['entry'] as { resource: Json }[]) {
    const r = entry.resource;
    if (r['resourceType'] === 'Patient') {
      r['identifier'] = [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }];
      r['birthDate'] = patient.birthDate;
    } else if (r['resourceType'] === 'Organization' && r['id'] === 'org') {
      r['identifier'] = [{ system: ODS_ORGANIZATION_SYSTEM, value: practiceOds }];
    }
  }
  return Buffer.from(JSON.stringify(bundle));
}

async function importSocialCare(store: Store, workDir: string, persons: number): Promise<Patient[]> {
  const extract = generateSocialCareExtract({ persons, out: join(workDir, 'access-social-care') });
  const importId = await createImport(store.engine, { origin: ImportOrigin.CLI, status: ImportStatus.RUNNING });
  const files = await openExtract(extract.dir);
  try {
    const summary = await importExtract(store, files, { importId });
    if (summary.status !== 'done') throw new Error(`access bench: the social care extract was ${summary.status}`);
  } finally {
    await files.close();
  }
  const rows = await store.engine.query<{ content: string }>(`SELECT content::text AS content FROM resource WHERE resource_type = 'Patient' AND content->'meta'->>'source' = $1 ORDER BY id`, [DEFAULT_SOURCE]);
  return rows.rows.map((r) => parseStoredResource(r.content) as Patient).filter((p) => p.birthDate && p.identifier?.some((i) => i.system === NHS_NUMBER_SYSTEM) && p.deceasedDateTime === undefined);
}

/**
 * `count` people known to the council, their GP practice (`practiceOds`) and the hospital. NHS
 * numbers are the social care generator's: the first `extractPersons` of the 999 test range.
 */
export async function loadRealisticPersons(store: Store, options: { count: number; practiceOds: string; workDir: string }): Promise<{ persons: RealisticPerson[]; extractPersons: number }> {
  // A few spare: the generator makes some people deceased.
  const extractPersons = options.count + 4;
  const councilPatients = (await importSocialCare(store, options.workDir, extractPersons)).slice(0, options.count);
  if (councilPatients.length < options.count) throw new Error(`access bench: the social care extract gave ${String(councilPatients.length)} usable people, not ${String(options.count)}`);
  const logger = createLogger('silent');
  const gpIntake = new GpIntake({ store, queue: { enqueue: () => Promise.resolve(), depth: () => Promise.resolve(0), close: () => Promise.resolve() }, logger });
  const feed = await startHl7Feed({ store, logger, registry: new Registry(), listenMllp: false, mllpPort: 0, runWorkers: false });
  const handlers = { [GP_INBOX_KIND]: gpInboxHandler(), [HL7_INBOX_KIND]: hl7InboxHandler(loadSenderDirectory()) };
  const apply = async (inboxId: string | undefined, what: string): Promise<void> => {
    if (!inboxId) throw new Error(`access bench: ${what} was refused at intake`);
    const result = await processInboxItem(store, inboxId, handlers, { maxAttempts: 1 });
    if (result !== 'done') throw new Error(`access bench: ${what} was not applied (${result})`);
  };
  const persons: RealisticPerson[] = [];
  try {
    for (const [n, patient] of councilPatients.entries()) {
      const content = gpRecordFor(n, patient, options.practiceOds);
      await apply((await gpIntake.receive(content)).inboxId, 'a GP record');
      const gpPatientId = mapStoredBundle(content, new Date().toISOString()).patientId as string;
      const sex = patient.gender === 'female' ? 'F' : patient.gender === 'male' ? 'M' : 'U';
      const nhsNumber = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? '';
      for (let stay = 0; stay < HOSPITAL_STAYS; stay++) {
        for (const message of hospitalStay(n, stay, nhsNumber, patient.birthDate ?? '', sex)) await apply((await feed.intake.receive(message)).inboxId, 'an HL7 message');
      }
      const personIds = await samePersonIds(store.engine, gpPatientId);
      const bySource = await store.engine.query<{ source: string | null; n: number }>(
        `SELECT content->'meta'->>'source' AS source, count(*)::int AS n FROM resource WHERE patient_ids && $1::text[] GROUP BY 1 ORDER BY 1`,
        [personIds],
      );
      const sources = Object.fromEntries(bySource.rows.map((r) => [r.source ?? '(none)', r.n]));
      persons.push({ gpPatientId, personIds, resources: bySource.rows.reduce((s, r) => s + r.n, 0), bySource: sources });
    }
  } finally {
    await feed.close();
  }
  return { persons, extractPersons };
}
