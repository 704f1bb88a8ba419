import { registerSourceSystem, sourceOrganisations } from '../../gateway/access/source-systems';
import { Store } from '../../gateway/store/store';

describe('source systems', () => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open({});
    await store.migrate();
  });
  afterAll(() => store.close());

  it('maps each source to the organisation holding its data, the latest registration winning', async () => {
    await registerSourceSystem(store.engine, { uri: 'https://pas.trust.example/hl7', organisation: 'https://fhir.nhs.uk/Id/ods-organization-code|RX1', kind: 'hl7v2' });
    await registerSourceSystem(store.engine, { uri: 'https://sc.council.example/carefirst', organisation: 'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004', name: 'Council', kind: 'social-care' });
    await registerSourceSystem(store.engine, { uri: 'https://pas.trust.example/hl7', organisation: 'https://fhir.nhs.uk/Id/ods-organization-code|RX2', kind: 'hl7v2' });
    expect(await sourceOrganisations(store.engine)).toEqual({
      'https://pas.trust.example/hl7': 'https://fhir.nhs.uk/Id/ods-organization-code|RX2',
      'https://sc.council.example/carefirst': 'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004',
    });
  });
});
