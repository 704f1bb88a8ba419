import { Registry } from 'prom-client';
import { MllpClient } from '../adapters/hl7v2/mllp-client';
import { CaldicottAccess } from '../gateway/access/caldicott-access';
import { GrantKind, recordGrant } from '../gateway/access/grants';
import type { Requester } from '../gateway/access/hooks';
import { startHl7Feed } from '../gateway/hl7v2/feed';
import { samePersonIds } from '../gateway/identity/resolver';
import { ingestResources } from '../gateway/ingest/ingest';
import { createLogger } from '../gateway/logger';
import { PassportService, type Issued } from '../gateway/passport/service';
import { generatePassportKeyPem, signerFromPem, type PassportSigner } from '../gateway/passport/signing';
import { listInbox } from '../gateway/store/inbox';
import type { Store } from '../gateway/store/store';
import { readTransferForm, type TransferForm } from '../mappings/passport/transfer-form';
// The realistic resident and the hospital's messages are the end-to-end test's fixtures
// (tests/passport/journey.test.ts), imported rather than copied so the bench measures the same person.
import { JOURNEY_MESSAGES } from '../tests/fixtures/passport/journey-messages';
import { GP_PATIENT_ID, residentRecord, SOURCES, TRANSFER_FORM } from '../tests/fixtures/passport/resident';

/**
 * The red bag's journey for the bench, as tests/passport/journey.test.ts runs it, on a store the
 * bench opens: Margaret ELLIS (dementia, DNACPR, LPA, eight medicines, a care package) ingested,
 * the care home's transfer form issued through PassportService.issueTransfer, then the hospital's
 * seven messages over MLLP through the real feed (admission, cancelled, admitted again, ward move,
 * pending discharge, discharge, the discharge summary after it), the service following each
 * journey step, which issues discharge passport versions 1 and 2.
 */

export const CARE_HOME_NURSE: Requester = { userId: 'ch-nurse-adeyemi', displayName: 'Grace Adeyemi', role: 'care_home_staff', organisation: 'https://carebridge.nhs.uk/Id/cqc-location-id|1-000000001', purposeOfUse: 'TREAT' };
export const PASSPORT_FHIR_BASE = 'https://carebridge.bench.invalid/fhir';
export const PASSPORT_PUBLIC_BASE = 'https://carebridge.bench.invalid';
export const RESIDENT_PATIENT_ID = GP_PATIENT_ID;

const NAMES: Readonly<Record<string, string>> = {
  [SOURCES.GP]: 'Oakfield Lane Surgery',
  [SOURCES.COUNCIL]: 'Example Borough Council',
  [SOURCES.CARE_HOME]: 'Oakfield House Care Home',
  'urn:carebridge:hl7v2:RZZ:PAS': 'Northfield Hospitals NHS Trust',
};

/** meta.source → organisation name, as the gateway's directory answers it (the same function the service is given). */
export const benchSourceName = (source: string | undefined): string => (source ? (NAMES[source] ?? source) : 'unknown');

export interface PassportJourney {
  readonly store: Store;
  readonly service: PassportService;
  readonly signer: PassportSigner;
  /** PKCS#8 PEM of the signer's key, for the bare jose ceiling. */
  readonly keyPem: string;
  readonly form: TransferForm;
  /** Transfer passport version 1, issued through the service. */
  readonly firstTransfer: Issued;
  /** The hospital stay: the seven messages over MLLP, the journey followed after each. */
  runHospitalStay(): Promise<void>;
}

/** The resident's record and a first transfer passport (version 1) on `store`. */
export async function startPassportJourney(store: Store): Promise<PassportJourney> {
  let clock = new Date('2026-11-20T02:40:00Z');
  await ingestResources(store, residentRecord());
  const keyPem = generatePassportKeyPem();
  const signer = await signerFromPem(keyPem);
  const access = new CaldicottAccess(store.engine, { now: () => clock });
  const service = new PassportService({
    store,
    signer,
    decide: (requester, patientId) => access.decide({ requester }, patientId),
    audit: () => Promise.resolve(),
    sourceName: benchSourceName,
    fhirBase: PASSPORT_FHIR_BASE,
    logger: createLogger('silent'),
    now: () => clock,
  });
  const personIds = await samePersonIds(store.engine, GP_PATIENT_ID);
  await recordGrant(store.engine, { kind: GrantKind.PERMISSION_TO_VIEW, requester: CARE_HOME_NURSE, patientId: GP_PATIENT_ID, personIds, decision: 'given', requestId: 'bench', now: clock });
  const read = readTransferForm(TRANSFER_FORM, clock);
  if ('problems' in read) throw new Error(`passport bench: the fixture's transfer form was refused: ${JSON.stringify(read.problems)}`);
  const firstTransfer = await service.issueTransfer({ patientId: GP_PATIENT_ID, form: read.form, requester: CARE_HOME_NURSE, requestId: 'bench-transfer-1' });

  return {
    store,
    service,
    signer,
    keyPem,
    form: read.form,
    firstTransfer,
    runHospitalStay: async () => {
      const feed = await startHl7Feed({ store, logger: createLogger('silent'), registry: new Registry(), listenMllp: true, mllpPort: 0, runWorkers: true });
      const client = new MllpClient({ host: '127.0.0.1', port: feed.mllpPort ?? 0, timeoutMs: 10_000 });
      const times = ['2026-11-20T03:56:00Z', '2026-11-20T04:11:00Z', '2026-11-20T04:21:00Z', '2026-11-21T10:01:00Z', '2026-11-24T10:01:00Z', '2026-11-25T14:31:00Z', '2026-11-25T17:01:00Z'];
      try {
        await client.connect();
        for (const [i, message] of JOURNEY_MESSAGES.entries()) {
          const before = (await listInbox(store.engine, ['done'], 1000)).length;
          await client.send(Buffer.from(message.message, 'latin1'));
          const until = Date.now() + 20_000;
          while ((await listInbox(store.engine, ['done'], 1000)).length <= before) {
            if (Date.now() > until) throw new Error(`passport bench: ${message.name} was not applied`);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          clock = new Date(times[i] ?? clock.toISOString());
          await service.followAll();
        }
      } finally {
        await client.close();
        await feed.close();
      }
    },
  };
}
