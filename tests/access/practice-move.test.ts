import type { Patient } from '@medplum/fhirtypes';
import { CaldicottAccess } from '../../gateway/access/caldicott-access';
import { GrantKind, PermissionToView, recordGrant } from '../../gateway/access/grants';
import { Interaction, PurposeOfUse, type ReadRequest, type Requester } from '../../gateway/access/hooks';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { hl7InboxHandler } from '../../gateway/hl7v2/apply';
import { HL7_INBOX_KIND } from '../../gateway/hl7v2/intake';
import { loadSenderDirectory } from '../../gateway/hl7v2/senders';
import { samePersonIds } from '../../gateway/identity/resolver';
import { processInboxItem } from '../../gateway/ingest/inbox-processor';
import { ingestResources } from '../../gateway/ingest/ingest';
import { acceptIntoInbox } from '../../gateway/store/inbox';
import { Store } from '../../gateway/store/store';
import { ODS_ORGANIZATION_SYSTEM } from '../../mappings/identifiers';
import { sourcePatient } from '../support/synthetic';

/**
 * A person moves GP practice. Their old practice's GP record still names it, and so does nothing
 * else once the hospital, told by PDS, sends the new practice in PD1. From then on the old practice
 * has no registered-GP relationship and the new one has, through the real hospital feed, identity
 * linking and the Caldicott hook on PGlite (the remembered decision is not used past the change).
 * Invented person, NHS number from the 999 range.
 */
const NHS = '9990000018';
const GP_SOURCE = 'https://gp.old-practice.example.invalid/fhir';
const now = new Date('2026-11-23T09:00:00Z');
const gpAt = (ods: string): Requester => ({ userId: `u-gp-${ods}`, role: 'gp', organisation: `${ODS_ORGANIZATION_SYSTEM}|${ods}`, purposeOfUse: PurposeOfUse.TREAT });
const OLD = gpAt('Y90001');
const NEW = gpAt('Y90002');

const a31 = Buffer.from(
  [
    'MSH|^~\\&|PAS|RZZ|CAREBRIDGE|CAREBRIDGE|20261120090000||ADT^A31^ADT_A05|MOVE-0001|P|2.4',
    'EVN|A31|20261120090000',
    `PID|1||RZZ7000001^^^RZZ^MR~${NHS}^^^NHS^NH||MOVEDPERSON^Alex^^^Mx^^L||19400203|F`,
    'PD1|||New Road Practice^^Y90002',
    'PV1|1|N',
    '',
  ].join('\r'),
  'latin1',
);

describe('a move of GP practice, as the access rules see it', () => {
  let store: Store;
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
  });
  afterAll(() => store.close());

  const read = (requester: Requester, n: number): ReadRequest => ({ requestId: `r-${requester.userId}-${String(n)}`, requester, interaction: Interaction.READ, resourceType: 'Patient', patientId: 'old-gp-record', resourceId: 'old-gp-record' });
  /** Each decision's effect and the relationship it rests on. */
  const decided = async (access: CaldicottAccess, request: ReadRequest): Promise<string[]> => {
    await access.scope(request);
    return access.explain(request).decisions.map((d) => `${d.effect} ${d.relationship ?? '(none)'}`);
  };

  test('the old practice loses its registered-GP relationship once a newer record names the new practice', async () => {
    const oldRecord: Patient = { ...sourcePatient('old-gp-record', GP_SOURCE, NHS, { verified: true, birthDate: '1940-02-03', family: 'Movedperson' }), generalPractitioner: [{ reference: 'Organization/old-practice', identifier: { system: ODS_ORGANIZATION_SYSTEM, value: 'Y90001' } }] };
    await ingestResources(store, [oldRecord]);
    for (const requester of [OLD, NEW]) {
      await recordGrant(store.engine, { kind: GrantKind.PERMISSION_TO_VIEW, requester, patientId: 'old-gp-record', personIds: ['old-gp-record'], decision: PermissionToView.GIVEN, now });
    }
    const access = new CaldicottAccess(store.engine, { now: () => now });
    expect(await decided(access, read(OLD, 1))).toEqual(['permit registered-gp']);
    expect(await decided(access, read(NEW, 1))).toEqual(['deny (none)']);

    const accepted = await acceptIntoInbox(store.engine, { source: 'RZZ|PAS', kind: HL7_INBOX_KIND, dedupKey: 'MOVE-0001', content: a31 });
    expect(await processInboxItem(store, accepted.item.id, { [HL7_INBOX_KIND]: hl7InboxHandler(loadSenderDirectory({})) })).toBe('done');
    const person = await samePersonIds(store.engine, 'old-gp-record');
    expect(person.length).toBe(3);

    expect(await decided(access, read(OLD, 2))).toEqual(['deny (none)']);
    expect(await decided(access, read(NEW, 2))).toEqual(['permit registered-gp']);
  });
});
