import type { Organization } from '@medplum/fhirtypes';
import { decideAccess } from './decide';
import { roleCapabilities, scopeOf } from './scope';
import { hours, identified, ORG, patient, requester } from './testing/scenario';

const now = new Date('2026-11-23T12:00:00Z');

describe('the SQL scope of a decision', () => {
  it('a permit scopes to the person\'s patients, the role\'s types and withheld labels', () => {
    const d = decideAccess({ requester: requester('pharmacist'), record: [patient({ generalPractitioner: [identified<Organization>('Organization', ORG.requester)] })], permissionToView: [{ userId: 'user-1', outcome: 'given', recordedAt: hours(now, -1) }] }, now);
    const scope = scopeOf(d, ['pat-gp', 'pat-council']);
    expect(scope.patientIds).toEqual(['pat-gp', 'pat-council']);
    expect(scope.resourceTypes).toEqual(['AllergyIntolerance', 'Condition', 'HealthcareService', 'Location', 'Medication', 'MedicationAdministration', 'MedicationDispense', 'MedicationRequest', 'MedicationStatement', 'Organization', 'Patient', 'Practitioner', 'Procedure', 'RelatedPerson']);
    expect(scope.withheldLabels).toContain('http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V');
  });

  it('a deny scopes to nothing at all', () => {
    const d = decideAccess({ requester: requester('gp'), record: [patient()] }, now);
    expect(scopeOf(d, ['pat-gp'])).toEqual({ patientIds: [], nonPatientResources: false, resourceTypes: [], withheldLabels: [] });
  });
});

describe('role capabilities for the named write operations', () => {
  it('GP, social worker and privacy officer record decisions; care home staff may not break glass; unknown roles may do nothing', () => {
    expect(['gp', 'social_worker', 'privacy_officer', 'hospital_clinician'].map((r) => roleCapabilities(r)?.recordsConsent)).toEqual([true, true, true, false]);
    expect(roleCapabilities('care_home_staff')).toEqual({ selfClaim: false, breakGlass: false, recordsConsent: false, permissionToView: true });
    expect(roleCapabilities('surgeon')).toBeUndefined();
  });
});
