import type { AllergyIntolerance, MedicationRequest, MedicationStatement, Patient } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from '../../gateway/fhir/definitions';
import { samePersonIds } from '../../gateway/identity/resolver';
import { ingestResources } from '../../gateway/ingest/ingest';
import { inboxEntry } from '../../gateway/store/inbox';
import { Store } from '../../gateway/store/store';
import { ABSENT_SINCE_EXTENSION, SOURCE_STATE_SYSTEM } from '../../mappings/gp/reimport';
import { sourcePatient } from '../support/synthetic';
import { atTime, bundleCopy, importBundle, storedByIdentifier, versionCount, without } from './gp-support';

/**
 * Re-import semantics on the embedded store: a newer bundle replaces the practice's view of the
 * areas it carries (absent items ended, history kept), an older one never rolls the record back,
 * withheld items are not taken for ended, and the GP's Patient joins the person other sources hold.
 */
const ALG_ACTIVE = '5f0c1a3e-1111-4c5a-9e00-000000000001';
const ALG_PEANUT = '5f0c1a3e-1111-4c5a-9e00-000000000002';

describe('GP Connect re-import', () => {
  let store: Store;
  beforeAll(async () => {
    loadFhirDefinitions();
    store = await Store.open({});
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
  });

  const allergy = async (identifier: string): Promise<AllergyIntolerance> => {
    const found = await storedByIdentifier<AllergyIntolerance>(store, 'AllergyIntolerance', identifier);
    expect(found.length).toBe(1);
    return found[0] as AllergyIntolerance;
  };

  test('a newer bundle without an allergy ends it (inactive, tagged, dated), keeps its history, and leaves the others alone', async () => {
    await importBundle(store, atTime(bundleCopy('allergies-active-and-ended'), '2026-11-20T09:15:00+00:00'));
    const peanut = await allergy(ALG_PEANUT);
    expect(peanut.clinicalStatus?.coding?.[0]?.code).toBe('active');

    await importBundle(store, without(atTime(bundleCopy('allergies-active-and-ended'), '2026-11-21T09:15:00+00:00'), 'AllergyIntolerance/alg-2'));
    const ended = await allergy(ALG_PEANUT);
    expect(ended.clinicalStatus?.coding?.[0]?.code).toBe('inactive');
    expect(ended.meta?.tag).toEqual([expect.objectContaining({ system: SOURCE_STATE_SYSTEM, code: 'no-longer-in-source' })]);
    expect(ended.extension).toEqual([{ url: ABSENT_SINCE_EXTENSION, valueDateTime: '2026-11-21T09:15:00+00:00' }]);
    // Its NOPAT label and content are kept; only the status and the marks changed.
    expect(ended.meta?.security?.map((s) => s.code)).toEqual(['N', 'NOPAT']);
    expect(ended.code?.coding?.[0]?.code).toBe('91935009');
    expect(await versionCount(store, 'AllergyIntolerance', ended.id ?? '')).toBe(2);
    // Present in both bundles and unchanged: no new version.
    const amoxicillin = await allergy(ALG_ACTIVE);
    expect(await versionCount(store, 'AllergyIntolerance', amoxicillin.id ?? '')).toBe(1);
  });

  test('an older bundle arriving after a newer one is not applied: nothing rolls back', async () => {
    const id = await importBundle(store, atTime(bundleCopy('allergies-active-and-ended'), '2026-11-19T08:00:00+00:00'));
    expect((await inboxEntry(store.engine, id))?.outcome).toEqual(expect.objectContaining({ applied: false, superseded: true }));
    const peanut = await allergy(ALG_PEANUT);
    expect(peanut.clinicalStatus?.coding?.[0]?.code).toBe('inactive');
    expect(await versionCount(store, 'AllergyIntolerance', peanut.id ?? '')).toBe(2);
  });

  test('an item that comes back in a later bundle is current again, without the marks', async () => {
    await importBundle(store, atTime(bundleCopy('allergies-active-and-ended'), '2026-11-22T09:15:00+00:00'));
    const peanut = await allergy(ALG_PEANUT);
    expect(peanut.clinicalStatus?.coding?.[0]?.code).toBe('active');
    expect(peanut.meta?.tag).toBeUndefined();
    expect(peanut.extension).toBeUndefined();
    expect(await versionCount(store, 'AllergyIntolerance', peanut.id ?? '')).toBe(3);
  });

  test('a bundle that carries only medications leaves the allergies as they were', async () => {
    const meds = bundleCopy('medications-repeat-and-acute');
    // The same patient as the allergy bundle: its Patient resource.
    const patient = bundleCopy('allergies-active-and-ended').entry.find((e) => e.resource.resourceType === 'Patient');
    meds.entry = meds.entry.map((e) => (e.resource.resourceType === 'Patient' && patient ? patient : e));
    await importBundle(store, atTime(meds, '2026-11-23T09:15:00+00:00'));
    expect((await allergy(ALG_PEANUT)).clinicalStatus?.coding?.[0]?.code).toBe('active');
    expect((await allergy(ALG_ACTIVE)).meta?.tag).toBeUndefined();

    // Then the repeat is no longer listed: its statement, plan and issues stop asserting anything.
    const later = without(atTime(structuredClone(meds), '2026-11-24T09:15:00+00:00'), 'MedicationStatement/ms-1');
    for (const id of ['mr-plan', 'mr-issue-1', 'mr-issue-2']) without(later, `MedicationRequest/${id}`);
    await importBundle(store, later);
    const statement = (await storedByIdentifier<MedicationStatement>(store, 'MedicationStatement', '7a000000-2222-4000-8000-000000000001'))[0];
    expect(statement?.status).toBe('unknown');
    const plan = (await storedByIdentifier<MedicationRequest>(store, 'MedicationRequest', '7a000000-2222-4000-8000-000000000002'))[0];
    expect(plan?.status).toBe('unknown');
    const stopped = (await storedByIdentifier<MedicationStatement>(store, 'MedicationStatement', '7a000000-2222-4000-8000-000000000020'))[0];
    expect([stopped?.status, stopped?.meta?.tag]).toEqual(['stopped', undefined]);
  });

  test('items missing from a list that warns of withheld confidential items are left as they were', async () => {
    const bundle = bundleCopy('confidential-items-withheld');
    const first = structuredClone(bundle);
    // First: the practice shares the peanut allergy too.
    const peanut = bundleCopy('allergies-active-and-ended').entry.find((e) => e.resource.id === 'alg-2');
    first.entry.push(peanut as (typeof first.entry)[number]);
    const list = first.entry.find((e) => e.resource.id === 'lst-alg')?.resource as unknown as { entry: { item: { reference: string } }[]; extension: { url: string }[] };
    list.entry.push({ item: { reference: 'AllergyIntolerance/alg-2' } });
    list.extension = list.extension.filter((x) => !x.url.endsWith('ListWarningCode-1'));
    await importBundle(store, atTime(first, '2026-11-20T09:00:00+00:00'));
    // Then: the peanut allergy is withheld, and the list says items were left out.
    const id = await importBundle(store, atTime(bundle, '2026-11-21T09:00:00+00:00'));
    expect((await inboxEntry(store.engine, id))?.outcome).toEqual(expect.objectContaining({ applied: true, ended: 0, leftAsWere: 1 }));
    const stored = await storedByIdentifier<AllergyIntolerance>(store, 'AllergyIntolerance', ALG_PEANUT);
    const patientId = (await patientOf(bundle)).id ?? '';
    const mine = stored.filter((a) => a.patient.reference === `Patient/${patientId}`);
    expect(mine.map((a) => [a.clinicalStatus?.coding?.[0]?.code, a.meta?.tag])).toEqual([['active', undefined]]);
  });

  const patientOf = async (bundle: ReturnType<typeof bundleCopy>): Promise<Patient> => {
    const nhs = ((bundle.entry.find((e) => e.resource.resourceType === 'Patient')?.resource['identifier'] as { value: string }[])[0] as { value: string }).value;
    return (await storedByIdentifier<Patient>(store, 'Patient', nhs))[0] as Patient;
  };

  test('the GP Patient is linked with a hospital record of the same verified NHS number and birth date', async () => {
    const bundle = bundleCopy('immunisations-given-and-declined');
    const gp = bundle.entry.find((e) => e.resource.resourceType === 'Patient')?.resource as unknown as { identifier: { value: string }[]; birthDate: string };
    const nhs = (gp.identifier[0] as { value: string }).value;
    await ingestResources(store, [sourcePatient('hospital-record-1', 'urn:carebridge:hl7v2:RZZ:PAS', nhs, { verified: true, birthDate: gp.birthDate })]);
    await importBundle(store, bundle);
    const gpPatient = await patientOf(bundle);
    const same = await samePersonIds(store.engine, gpPatient.id ?? '');
    expect(same).toEqual(expect.arrayContaining([gpPatient.id, 'hospital-record-1']));
  });
});
