import type { Bundle, MedicationRequest, Observation, OperationOutcomeIssue, Patient } from '@medplum/fhirtypes';
import { resourceId } from '../../mappings/ids';
import { loadFhirDefinitions } from '../fhir/definitions';
import { prepareBundle, storedCandidates, type PrepareContext } from './prepare';

const SOURCE = 'https://sender.example.org';
const ctx = (stored: string[] = []): PrepareContext => ({ sourceUri: SOURCE, stored: new Set(stored), sensitivitiesOf: () => [] });
const patient: Patient = { resourceType: 'Patient', id: 'p1', birthDate: '1940-01-01' };
const paths = (issues: OperationOutcomeIssue[]): [string, string][] => issues.map((i) => [i.expression?.[0] ?? '', i.details?.text ?? '']);

beforeAll(() => {
  loadFhirDefinitions();
});

test('references from contained resources and versioned references are rewritten; absolute references elsewhere and # stay', () => {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111', resource: { resourceType: 'Organization', name: 'Maker' } },
      { fullUrl: 'https://sender.example.org/fhir/Patient/p1', resource: patient },
      {
        fullUrl: 'urn:uuid:22222222-2222-4222-8222-222222222222',
        resource: {
          resourceType: 'MedicationRequest',
          status: 'active',
          intent: 'order',
          contained: [{ resourceType: 'Medication', id: 'm', manufacturer: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' } }],
          medicationReference: { reference: '#m' },
          subject: { reference: 'Patient/p1/_history/3' },
          requester: { reference: 'https://elsewhere.example.org/fhir/Practitioner/9' },
        },
      },
    ],
  };
  const result = prepareBundle(bundle, ctx());
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  const request = result.prepared.resources[2] as MedicationRequest;
  const organizationId = resourceId('Organization', SOURCE, 'fullUrl:urn:uuid:11111111-1111-4111-8111-111111111111');
  expect((request.contained?.[0] as { manufacturer?: { reference?: string } }).manufacturer?.reference).toBe(`Organization/${organizationId}`);
  expect(request.medicationReference?.reference).toBe('#m');
  expect(request.subject.reference).toBe(`Patient/${resourceId('Patient', SOURCE, 'id:p1')}`);
  expect(request.requester?.reference).toBe('https://elsewhere.example.org/fhir/Practitioner/9');
  expect(result.prepared.resources.map((r) => r.meta?.source)).toEqual([SOURCE, SOURCE, SOURCE]);
});

test('a Type/id sent before by this sender resolves through the store lookup the caller makes', () => {
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:33333333-3333-4333-8333-333333333333', resource: { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p9' } } }] };
  const stored = `Patient/${resourceId('Patient', SOURCE, 'id:p9')}`;
  expect(storedCandidates(bundle, SOURCE)).toEqual([stored]);
  const refused = prepareBundle(bundle, ctx());
  expect(refused.ok ? [] : paths(refused.issues)).toEqual([['Bundle.entry[0].resource.subject.reference', 'Patient/p9 is neither in this Bundle nor something this system sent before']]);
  const accepted = prepareBundle(bundle, ctx([stored]));
  expect(accepted.ok ? (accepted.prepared.resources[0] as Observation).subject?.reference : undefined).toBe(stored);
});

test('entries that are the same resource, PUTs that contradict themselves and unsupported conditions are refused with their paths', () => {
  const twice = prepareBundle({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient }, { resource: { ...patient, birthDate: '1941-01-01' } }] }, ctx());
  expect(twice.ok ? [] : paths(twice.issues)).toEqual([['Bundle.entry[1]', 'This entry is the same Patient as Bundle.entry[0] (id p1)']]);

  const put = (url: string, resource: object): unknown => ({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource, request: { method: 'PUT', url } }] });
  const mismatch = prepareBundle(put('Patient/p2', patient), ctx());
  expect(mismatch.ok ? [] : paths(mismatch.issues)).toEqual([['Bundle.entry[0].resource.id', "The resource id p1 differs from the PUT url's p2"]]);
  const wrongType = prepareBundle(put('Observation/p1', patient), ctx());
  expect(wrongType.ok ? [] : paths(wrongType.issues)).toEqual([['Bundle.entry[0].request.url', 'A PUT url must be Patient/[id]']]);
  const byName = prepareBundle(put('Patient?name=smith', { resourceType: 'Patient' }), ctx());
  expect(byName.ok ? [] : paths(byName.issues)).toEqual([['Bundle.entry[0].request.url', 'Conditional updates are accepted on identifier=system|value only']]);
  const anonymous = prepareBundle({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient' } }] }, ctx());
  expect(anonymous.ok ? [] : paths(anonymous.issues)).toEqual([['Bundle.entry[0]', 'The entry needs a resource id, a fullUrl or a conditional url, so it can be recognised when sent again']]);
});

test('the same input always gives the same ids (no clock, no randomness)', () => {
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:44444444-4444-4444-8444-444444444444', resource: { resourceType: 'Patient', birthDate: '1950-05-05' } }] };
  const a = prepareBundle(bundle, ctx());
  const b = prepareBundle(structuredClone(bundle), ctx());
  expect(a).toEqual(b);
  expect(a.ok ? a.prepared.resources[0]?.id : undefined).toBe(resourceId('Patient', SOURCE, 'fullUrl:urn:uuid:44444444-4444-4444-8444-444444444444'));
});
