import type { Bundle, CodeableConcept, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { resourceConcepts } from '../../gateway/fhir-intake/concepts';
import { FHIR_INBOX_KIND, FhirIntake } from '../../gateway/fhir-intake/intake';
import { processInboxItem } from '../../gateway/ingest/inbox-processor';
import { createLogger } from '../../gateway/logger';
import { acceptIntoInbox } from '../../gateway/store/inbox';
import type { Store } from '../../gateway/store/store';
import { readLabels, Sensitivity } from '../../mappings/security/labels';
import { caseSystem, fixtureBytes, openStore, storedResources } from './support';

/**
 * The intake without HTTP: security labels from a resource's codes (the seam the sensitive-code
 * lists plug into), the worker applying a Bundle it finds in the inbox, and the 202 answer while
 * a Bundle waits.
 */
let store: Store;
beforeAll(async () => {
  store = await openStore();
});
afterAll(async () => {
  await store.close();
});

/** A stand-in code list for the test: SNOMED CT 5913000 (fractured neck of femur) as if it were sensitive. */
const SENSITIVE = 'http://snomed.info/sct|5913000';
const sensitivitiesOf = (resource: Resource): Sensitivity[] =>
  resourceConcepts(resource).some((c: CodeableConcept) => c.coding?.some((x) => `${x.system ?? ''}|${x.code ?? ''}` === SENSITIVE)) ? [Sensitivity.MENTAL_HEALTH] : [];

test('resources whose codes are sensitive are labelled, and the stored document is as protected as its most sensitive entry', async () => {
  const system = caseSystem('labelled-discharge');
  const intake = new FhirIntake({ store, logger: createLogger('silent'), sensitivitiesOf });
  const answer = await intake.receive(fixtureBytes('document-edischarge'), system);
  expect(answer.status).toBe(200);
  const stored = await storedResources(store, system.sourceUri);
  const labels = (type: string): ReturnType<typeof readLabels> => readLabels(stored.find((r) => r.resourceType === type)?.meta);
  expect(labels('Condition')).toEqual({ confidentiality: 'R', sensitivities: [Sensitivity.MENTAL_HEALTH] });
  expect(labels('Procedure')).toEqual({ confidentiality: 'N', sensitivities: [] });
  expect(labels('Bundle')).toEqual({ confidentiality: 'R', sensitivities: [Sensitivity.MENTAL_HEALTH] });
  expect(labels('DocumentReference')).toEqual({ confidentiality: 'R', sensitivities: [Sensitivity.MENTAL_HEALTH] });
});

test('resourceConcepts finds codes anywhere in a resource, Codings on their own included, never the narrative', () => {
  const concepts = resourceConcepts({
    resourceType: 'Observation',
    status: 'final',
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' },
    code: { coding: [{ system: 'http://loinc.org', code: '1-8' }] },
    component: [{ code: { text: 'free text' }, valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '2' }] } }],
    valueQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: 'kg' },
    meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] },
  });
  expect(concepts).toEqual([{ coding: [{ system: 'http://loinc.org', code: '1-8' }] }, { coding: [{ system: 'http://snomed.info/sct', code: '2' }] }]);
});

test('a Bundle found in the inbox (a retry, a replay) is applied by the worker, and its sender then gets the transaction-response', async () => {
  const system = caseSystem('worker-applied');
  const intake = new FhirIntake({ store, logger: createLogger('silent') });
  const accepted = await acceptIntoInbox(store.engine, { source: system.sourceUri, kind: FHIR_INBOX_KIND, dedupKey: 'k1', content: fixtureBytes('collection-mental-health'), outcome: { system: system.system, receivedAt: '2026-11-21T17:00:00.000Z' } });
  const waiting = await intake.answerFor(accepted.item.id, system.sourceUri);
  expect(waiting.status).toBe(202);
  expect(waiting.statusLocation).toBe(`/intake/fhir/status/${accepted.item.id}`);
  expect((waiting.body as OperationOutcome).issue[0]?.severity).toBe('information');

  expect(await processInboxItem(store, accepted.item.id, { [FHIR_INBOX_KIND]: intake.handler() })).toBe('done');
  const done = await intake.answerFor(accepted.item.id, system.sourceUri);
  expect(done.status).toBe(200);
  expect((done.body as Bundle).entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created', '201 Created']);
  expect((await storedResources(store, system.sourceUri)).map((r) => r.resourceType)).toEqual(['Condition', 'EpisodeOfCare', 'Patient', 'Provenance']);
});

test('a Bundle in the inbox that can no longer be applied fails permanently, is not retried, and its sender is told', async () => {
  const system = caseSystem('worker-refused');
  const intake = new FhirIntake({ store, logger: createLogger('silent') });
  const accepted = await acceptIntoInbox(store.engine, { source: system.sourceUri, kind: FHIR_INBOX_KIND, dedupKey: 'k2', content: fixtureBytes('bad-dangling-reference') });
  expect(await processInboxItem(store, accepted.item.id, { [FHIR_INBOX_KIND]: intake.handler() })).toBe('failed');
  expect((await intake.answerFor(accepted.item.id, system.sourceUri)).status).toBe(422);
  expect(await storedResources(store, system.sourceUri)).toEqual([]);
});
