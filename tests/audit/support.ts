import { Interaction, PurposeOfUse, type AuditRecord, type Requester } from '../../gateway/access/hooks';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { Store } from '../../gateway/store/store';
import { ODS_ORGANIZATION_SYSTEM, qualifiedId } from '../../mappings/identifiers';

/** Shared set-up for the audit tests: invented staff, synthetic patients, ids only. */

export const GP_PRACTICE = qualifiedId(ODS_ORGANIZATION_SYSTEM, 'Y00001');
export const HOSPITAL = qualifiedId(ODS_ORGANIZATION_SYSTEM, 'RX100');

export function requester(overrides: Partial<Requester> = {}): Requester {
  return {
    userId: 'user-gp-1',
    displayName: 'Dr Test Example',
    role: 'gp',
    organisation: GP_PRACTICE,
    teams: ['https://example-gp-system.test/team|T1'],
    purposeOfUse: PurposeOfUse.TREAT,
    ...overrides,
  };
}

export const PRIVACY_OFFICER: Requester = { userId: 'po-1', displayName: 'Privacy Officer Test', role: 'privacy_officer', organisation: HOSPITAL, purposeOfUse: PurposeOfUse.HOPERAT };

export function readRecord(n: number, overrides: Partial<AuditRecord> = {}, who: Requester = requester()): AuditRecord {
  return {
    request: { requestId: `req-${String(n)}`, requester: who, interaction: Interaction.READ, resourceType: 'Patient', patientId: `pat-${String(n % 5)}` },
    outcome: 'permit',
    returned: [`Patient/pat-${String(n % 5)}`],
    withheld: 0,
    ...overrides,
  };
}

export async function memoryStore(): Promise<Store> {
  loadFhirDefinitions();
  const store = await Store.open({});
  await store.migrate();
  return store;
}
