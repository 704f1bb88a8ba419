import type { Bundle, Condition, Encounter, Observation, Resource } from '@medplum/fhirtypes';
import { body, expectOutcome, FHIR_JSON, matchIds, nhsNumber, patient, startHarness, type Harness } from './harness';

/** Search parameter types over HTTP: token, string, date, reference, _id, _lastUpdated, :missing, OR and AND. */

const SNOMED = 'http://snomed.info/sct';
const MRN = 'https://trust.example.nhs.uk/Id/mrn';
const LOCAL_CODES = 'https://trust.example.nhs.uk/CodeSystem/local';
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

const T1 = new Date('2026-01-15T10:00:00.000Z');
const T2 = new Date('2026-06-01T12:00:00.000Z');

const mrn = (value: string): { system: string; value: string } => ({ system: MRN, value });

const early: Resource[] = [
  patient({ id: 'pat-ellis', family: 'Ellis', given: 'Margaret', gender: 'female', birthDate: '1938-04-12', nhs: nhsNumber(0) }),
  patient({ id: 'pat-price', family: 'Price', given: 'Harold', gender: 'male', birthDate: '1941-09-30', nhs: nhsNumber(1) }),
  patient({ id: 'pat-okafor', family: 'Okafor', given: 'Grace', gender: 'female', birthDate: '1946-01-05', nhs: nhsNumber(2) }),
  patient({ id: 'pat-jones', family: 'Jones', given: 'Siân', gender: 'female', birthDate: '1935-07-21', nhs: nhsNumber(3) }),
  patient({ id: 'pat-obrien', family: "O'Brien", given: 'Patrick', gender: 'male', birthDate: '1944-12-02', nhs: nhsNumber(4) }),
];
// Extra identifiers: a hospital MRN for two people.
(early[0] as { identifier: unknown[] }).identifier.push(mrn('MRN001'));
(early[1] as { identifier: unknown[] }).identifier.push(mrn('MRN002'));

const late: Resource[] = [
  patient({ id: 'pat-jonesy', family: 'Jonesy', given: 'Tom', gender: 'male', birthDate: '1938-11-30', nhs: nhsNumber(5) }),
  // No birth date, no gender, and an identifier without a system.
  patient({ id: 'pat-nodob', family: 'Doe-Smith', given: 'Alex', extra: { identifier: [{ value: 'LOCAL-7' }] } }),
];

function condition(id: string, subject: string, codings: { system?: string; code: string }[], clinicalStatus?: string): Condition {
  return {
    resourceType: 'Condition',
    id,
    subject: { reference: `Patient/${subject}` },
    code: { coding: codings },
    ...(clinicalStatus ? { clinicalStatus: { coding: [{ system: CLINICAL, code: clinicalStatus }] } } : {}),
  };
}

const conditions: Condition[] = [
  condition('cond-ellis-dementia', 'pat-ellis', [{ system: SNOMED, code: '52448006' }], 'active'),
  condition('cond-ellis-htn', 'pat-ellis', [{ system: SNOMED, code: '38341003' }], 'resolved'),
  condition('cond-okafor-htn', 'pat-okafor', [{ system: SNOMED, code: '38341003' }, { system: LOCAL_CODES, code: 'HTN' }], 'active'),
  condition('cond-jones-local', 'pat-jones', [{ code: 'STROKE-X' }], 'active'),
];

function encounter(id: string, subject: string, period: { start: string; end?: string }): Encounter {
  return { resourceType: 'Encounter', id, status: period.end ? 'finished' : 'in-progress', class: { code: 'IMP' }, subject: { reference: `Patient/${subject}` }, period };
}

const encounters: Encounter[] = [
  encounter('enc-closed', 'pat-ellis', { start: '2026-10-02T03:10:00Z', end: '2026-10-09T14:00:00Z' }),
  encounter('enc-short', 'pat-ellis', { start: '2026-11-01T09:00:00Z', end: '2026-11-01T11:00:00Z' }),
  // Still in progress: the period has no end.
  encounter('enc-open', 'pat-price', { start: '2026-11-20T10:30:00Z' }),
];

function heartRate(id: string, subject: string, value: number): Observation {
  return {
    resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: `Patient/${subject}` }, valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

const observations: Observation[] = [heartRate('obs-hr-60', 'pat-ellis', 60), heartRate('obs-hr-72', 'pat-ellis', 72), heartRate('obs-hr-90', 'pat-price', 90)];

// Values that hold FHIR search's special characters.
const awkward: Resource[] = [
  { resourceType: 'Organization', id: 'org-comma', name: 'Smith,Jones Partnership', identifier: [{ system: 'urn:test:pipes', value: 'A|B' }] },
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness([
    { resources: [...early, ...conditions, ...encounters, ...observations, ...awkward], now: T1 },
    { resources: late, now: T2 },
  ]);
});

afterAll(async () => {
  await h.close();
});

/** The ids a search matched, sorted (these tests are about which resources match, not their order). */
async function found(path: string): Promise<string[]> {
  const res = await h.get(path);
  if (res.status !== 200) throw new Error(`${path} → ${res.status} ${res.text}`);
  expect(res.headers['content-type']).toBe(FHIR_JSON);
  const bundle = body<Bundle>(res);
  expect(bundle.type).toBe('searchset');
  const ids = matchIds(res);
  expect(bundle.total).toBe(ids.length);
  return ids.sort();
}

const enc = (q: string): string => `/fhir/Encounter?${q}`;
const pat = (q: string): string => `/fhir/Patient?${q}`;
const cond = (q: string): string => `/fhir/Condition?${q}`;
const obs = (q: string): string => `/fhir/Observation?${q}`;

describe('token search', () => {
  it('finds a patient by NHS number (system|code)', async () => {
    expect(await found(pat(`identifier=https://fhir.nhs.uk/Id/nhs-number|${nhsNumber(3)}`))).toEqual(['pat-jones']);
    expect(await found(pat(`identifier=${encodeURIComponent(`https://fhir.nhs.uk/Id/nhs-number|${nhsNumber(4)}`)}`))).toEqual(['pat-obrien']);
  });

  it('does not match an NHS number under another system', async () => {
    expect(await found(pat(`identifier=${MRN}|${nhsNumber(3)}`))).toEqual([]);
  });

  it('system|code matches only that system', async () => {
    expect(await found(cond(`code=${SNOMED}|38341003`))).toEqual(['cond-ellis-htn', 'cond-okafor-htn']);
    expect(await found(cond(`code=${LOCAL_CODES}|HTN`))).toEqual(['cond-okafor-htn']);
    expect(await found(cond(`code=${SNOMED}|HTN`))).toEqual([]);
  });

  it('a plain code matches in any system and without one', async () => {
    expect(await found(cond('code=38341003'))).toEqual(['cond-ellis-htn', 'cond-okafor-htn']);
    expect(await found(cond('code=STROKE-X'))).toEqual(['cond-jones-local']);
    expect(await found(pat('identifier=MRN001'))).toEqual(['pat-ellis']);
    expect(await found(pat('identifier=LOCAL-7'))).toEqual(['pat-nodob']);
  });

  it('|code matches only codes that have no system', async () => {
    expect(await found(cond('code=|STROKE-X'))).toEqual(['cond-jones-local']);
    expect(await found(cond('code=|38341003'))).toEqual([]);
    expect(await found(pat('identifier=|LOCAL-7'))).toEqual(['pat-nodob']);
    expect(await found(pat('identifier=|MRN001'))).toEqual([]);
  });

  it('system| matches any code in that system', async () => {
    expect(await found(cond(`code=${SNOMED}|`))).toEqual(['cond-ellis-dementia', 'cond-ellis-htn', 'cond-okafor-htn']);
    expect(await found(pat(`identifier=${MRN}|`))).toEqual(['pat-ellis', 'pat-price']);
  });

  it(':not excludes matches and keeps resources without the element', async () => {
    expect(await found(cond('clinical-status:not=resolved'))).toEqual(['cond-ellis-dementia', 'cond-jones-local', 'cond-okafor-htn']);
    expect(await found(cond('code:not=38341003'))).toEqual(['cond-ellis-dementia', 'cond-jones-local']);
    expect(await found(pat('gender:not=female'))).toEqual(['pat-jonesy', 'pat-nodob', 'pat-obrien', 'pat-price']);
  });

  it('a comma means OR within one parameter', async () => {
    expect(await found(cond(`code=${SNOMED}|52448006,${SNOMED}|38341003`))).toEqual(['cond-ellis-dementia', 'cond-ellis-htn', 'cond-okafor-htn']);
    expect(await found(pat('gender=male,female'))).toEqual(['pat-ellis', 'pat-jones', 'pat-jonesy', 'pat-obrien', 'pat-okafor', 'pat-price']);
  });

  it('answers 400 for a token of only a bar', async () => {
    const issue = expectOutcome(await h.get(cond('code=|')), 400, 'invalid');
    expect(issue.details?.text).toBe("'|' is not a valid token for code");
    expect(issue.expression).toEqual(['code']);
  });

  it('answers 400 for an unsupported token modifier', async () => {
    const issue = expectOutcome(await h.get(cond('code:text=dementia')), 400, 'invalid');
    expect(issue.details?.text).toBe("Modifier ':text' is not supported on code");
    expect(issue.expression).toEqual(['code:text']);
  });
});

describe('string search', () => {
  it('matches the start of any name part by default', async () => {
    expect(await found(pat('family=Jones'))).toEqual(['pat-jones', 'pat-jonesy']);
    expect(await found(pat('name=mar'))).toEqual(['pat-ellis']);
    expect(await found(pat('family=ones'))).toEqual([]);
  });

  it('is case- and accent-insensitive by default', async () => {
    expect(await found(pat('name=sian'))).toEqual(['pat-jones']);
    expect(await found(pat(`name=${encodeURIComponent('SIÂN')}`))).toEqual(['pat-jones']);
    expect(await found(pat(`given=${encodeURIComponent('Siân')}`))).toEqual(['pat-jones']);
    expect(await found(pat('family=ELLIS'))).toEqual(['pat-ellis']);
  });

  it(':exact matches the whole value, case- and accent-sensitively', async () => {
    expect(await found(pat('family:exact=Jones'))).toEqual(['pat-jones']);
    expect(await found(pat('family:exact=jones'))).toEqual([]);
    expect(await found(pat('family:exact=Jone'))).toEqual([]);
    expect(await found(pat(`given:exact=${encodeURIComponent('Siân')}`))).toEqual(['pat-jones']);
    expect(await found(pat('given:exact=Sian'))).toEqual([]);
  });

  it(':contains matches anywhere in the value', async () => {
    expect(await found(pat('family:contains=ONES'))).toEqual(['pat-jones', 'pat-jonesy']);
    expect(await found(pat('name:contains=bri'))).toEqual(['pat-obrien']);
    expect(await found(pat('name:contains=ian'))).toEqual(['pat-jones']);
  });

  it('treats % and _ as ordinary characters, not wildcards', async () => {
    expect(await found(pat('family=%25'))).toEqual([]);
    expect(await found(pat('family:contains=_'))).toEqual([]);
    expect(await found(pat('family=J_nes'))).toEqual([]);
  });

  it('matches an apostrophe literally', async () => {
    expect(await found(pat(`family=${encodeURIComponent("O'Bri")}`))).toEqual(['pat-obrien']);
  });

  it('repeated parameters mean AND', async () => {
    expect(await found(pat('family=jones&given=tom'))).toEqual(['pat-jonesy']);
    expect(await found(pat('family=jones&given=grace'))).toEqual([]);
    expect(await found(pat('gender=female&birthdate=le1939'))).toEqual(['pat-ellis', 'pat-jones']);
  });

  it('a comma means OR', async () => {
    expect(await found(pat('family=ellis,okafor'))).toEqual(['pat-ellis', 'pat-okafor']);
  });
});

describe('date search on Patient.birthdate', () => {
  it.each([
    ['1938', ['pat-ellis', 'pat-jonesy']],
    ['1938-04', ['pat-ellis']],
    ['1938-04-12', ['pat-ellis']],
    ['eq1938-04-12', ['pat-ellis']],
    ['eq1938', ['pat-ellis', 'pat-jonesy']],
    ['ne1938', ['pat-jones', 'pat-obrien', 'pat-okafor', 'pat-price']],
    ['ge1941-09-30', ['pat-obrien', 'pat-okafor', 'pat-price']],
    ['gt1941-09-30', ['pat-obrien', 'pat-okafor']],
    ['gt1938-04', ['pat-jonesy', 'pat-obrien', 'pat-okafor', 'pat-price']],
    ['le1938-04-12', ['pat-ellis', 'pat-jones']],
    ['lt1938-04-12', ['pat-jones']],
    ['lt1938', ['pat-jones']],
    ['sa1938', ['pat-obrien', 'pat-okafor', 'pat-price']],
    ['eb1941', ['pat-ellis', 'pat-jones', 'pat-jonesy']],
    ['1950', []],
  ])('birthdate=%s', async (value, expected) => {
    expect(await found(pat(`birthdate=${value}`))).toEqual(expected);
  });

  it('two birthdate parameters make a range (AND)', async () => {
    expect(await found(pat('birthdate=ge1938&birthdate=le1941'))).toEqual(['pat-ellis', 'pat-jonesy', 'pat-price']);
  });

  it('gt and lt together make an open range (AND)', async () => {
    expect(await found(pat('birthdate=gt1938&birthdate=lt1945'))).toEqual(['pat-obrien', 'pat-price']);
  });

  it('a comma gives alternatives (OR)', async () => {
    expect(await found(pat('birthdate=1935,1946'))).toEqual(['pat-jones', 'pat-okafor']);
  });
});

describe('date search on Encounter.date (a Period, possibly open-ended)', () => {
  it.each([
    ['2026-10', ['enc-closed']],
    ['eq2026-11', ['enc-short']],
    ['2026-11-20', []],
    ['ge2026-11-15', ['enc-open']],
    ['gt2030-01-01', ['enc-open']],
    ['lt2026-11-01', ['enc-closed']],
    ['le2026-10-05', ['enc-closed']],
    ['sa2026-11-10', ['enc-open']],
    ['sa2026-10-15', ['enc-open', 'enc-short']],
    ['eb2026-11-01', ['enc-closed']],
    ['eb2026-11-02', ['enc-closed', 'enc-short']],
    ['ge2026-11-01T10:00:00Z', ['enc-open', 'enc-short']],
  ])('date=%s', async (value, expected) => {
    expect(await found(enc(`date=${encodeURIComponent(value)}`))).toEqual(expected);
  });
});

describe('reference search', () => {
  it.each([
    ['subject=Patient/pat-ellis', ['enc-closed', 'enc-short']],
    ['subject=pat-ellis', ['enc-closed', 'enc-short']],
    ['subject:Patient=pat-ellis', ['enc-closed', 'enc-short']],
    ['subject=https://carebridge.test/fhir/Patient/pat-ellis', ['enc-closed', 'enc-short']],
    ['patient=pat-price', ['enc-open']],
    ['patient=Patient/pat-price', ['enc-open']],
    ['subject:Group=pat-ellis', []],
    ['subject=Patient/pat-nobody', []],
    ['subject=Patient/pat-ellis,Patient/pat-price', ['enc-closed', 'enc-open', 'enc-short']],
  ])('Encounter?%s', async (query, expected) => {
    expect(await found(enc(query))).toEqual(expected);
  });

  it('combines a reference with a token (AND)', async () => {
    expect(await found(cond('subject=Patient/pat-ellis&code=38341003'))).toEqual(['cond-ellis-htn']);
    expect(await found(cond('patient=pat-okafor&code=http://snomed.info/sct|38341003'))).toEqual(['cond-okafor-htn']);
  });

  it('answers 400 for a target type the parameter cannot refer to', async () => {
    const issue = expectOutcome(await h.get(enc('patient=Practitioner/pr-1')), 400, 'invalid');
    expect(issue.details?.text).toBe("patient cannot refer to a resource of type 'Practitioner'");
    expect(issue.expression).toEqual(['patient']);
  });

  it('answers 400 for a reference whose id is not a FHIR id', async () => {
    const issue = expectOutcome(await h.get(enc(`subject=${encodeURIComponent('Patient/a b')}`)), 400, 'invalid');
    expect(issue.details?.text).toBe("'Patient/a b' is not a valid reference for subject: expected [Type/]id");
  });
});

describe('_id, _lastUpdated and :missing', () => {
  it('_id takes several ids separated by commas', async () => {
    expect(await found(pat('_id=pat-ellis,pat-okafor,pat-unknown'))).toEqual(['pat-ellis', 'pat-okafor']);
  });

  it('two _id parameters must both hold', async () => {
    expect(await found(pat('_id=pat-ellis&_id=pat-okafor'))).toEqual([]);
    expect(await found(pat('_id=pat-ellis,pat-okafor&_id=pat-okafor'))).toEqual(['pat-okafor']);
  });

  it('_lastUpdated (eq, ge, le) compares with the write instant', async () => {
    expect(await found(pat('_lastUpdated=2026-06-01'))).toEqual(['pat-jonesy', 'pat-nodob']);
    expect(await found(pat('_lastUpdated=2026-01'))).toEqual(['pat-ellis', 'pat-jones', 'pat-obrien', 'pat-okafor', 'pat-price']);
    expect(await found(pat(`_lastUpdated=${encodeURIComponent('ge2026-06-01T12:00:00Z')}`))).toEqual(['pat-jonesy', 'pat-nodob']);
    expect(await found(pat(`_lastUpdated=${encodeURIComponent('le2026-06-01T11:59:59Z')}`))).toEqual(['pat-ellis', 'pat-jones', 'pat-obrien', 'pat-okafor', 'pat-price']);
  });

  it('_lastUpdated=gt and lt compare with the write instant', async () => {
    expect(await found(pat('_lastUpdated=gt2026-03-01'))).toEqual(['pat-jonesy', 'pat-nodob']);
    expect(await found(pat('_lastUpdated=lt2026-03-01'))).toEqual(['pat-ellis', 'pat-jones', 'pat-obrien', 'pat-okafor', 'pat-price']);
    expect(await found(pat(`_lastUpdated=${encodeURIComponent('gt2026-06-01T12:00:00Z')}`))).toEqual([]);
  });

  it(':missing=true finds resources without the element, :missing=false those with it', async () => {
    expect(await found(pat('birthdate:missing=true'))).toEqual(['pat-nodob']);
    expect(await found(pat('birthdate:missing=false'))).toEqual(['pat-ellis', 'pat-jones', 'pat-jonesy', 'pat-obrien', 'pat-okafor', 'pat-price']);
    expect(await found(pat('gender:missing=true'))).toEqual(['pat-nodob']);
    expect(await found(cond('clinical-status:missing=true'))).toEqual([]);
  });

  it(':missing takes only true or false', async () => {
    const issue = expectOutcome(await h.get(pat('birthdate:missing=yes')), 400, 'invalid');
    expect(issue.details?.text).toBe('birthdate:missing takes true or false');
    expect(issue.expression).toEqual(['birthdate:missing']);
  });
});

describe('quantity search on Observation.value-quantity', () => {
  it.each([
    ['gt70', ['obs-hr-72', 'obs-hr-90']],
    ['lt72', ['obs-hr-60']],
    ['ge72', ['obs-hr-72', 'obs-hr-90']],
    ['le72', ['obs-hr-60', 'obs-hr-72']],
  ])('value-quantity=%s', async (value, expected) => {
    expect(await found(obs(`value-quantity=${value}`))).toEqual(expected);
  });

  it.each([
    ['72', ['obs-hr-72']],
    ['eq72', ['obs-hr-72']],
    ['72.4', []],
    ['ne72', ['obs-hr-60', 'obs-hr-90']],
    ['ap72', ['obs-hr-72']],
    ['72|http://unitsofmeasure.org|/min', ['obs-hr-72']],
    ['72||/min', ['obs-hr-72']],
  ])('value-quantity=%s', async (value, expected) => {
    expect(await found(obs(`value-quantity=${encodeURIComponent(value)}`))).toEqual(expected);
  });

  it('a unit that differs finds nothing', async () => {
    expect(await found(obs(`value-quantity=${encodeURIComponent('gt70|http://unitsofmeasure.org|mm[Hg]')}`))).toEqual([]);
  });
});

describe('escaped special characters (FHIR R4 search §3.1.1.4, escaping)', () => {
  it('\\, is a literal comma, not OR', async () => {
    expect(await found(`/fhir/Organization?name=${encodeURIComponent('Smith\\,Jones')}`)).toEqual(['org-comma']);
    expect(await found(`/fhir/Organization?name:exact=${encodeURIComponent('Smith\\,Jones Partnership')}`)).toEqual(['org-comma']);
    expect(await found('/fhir/Organization?name:exact=Smith,Jones Partnership')).toEqual([]);
  });

  it('\\| in a token is a literal bar, not the system separator', async () => {
    expect(await found(`/fhir/Organization?identifier=${encodeURIComponent('urn:test:pipes|A\\|B')}`)).toEqual(['org-comma']);
    expect(await found(`/fhir/Organization?identifier=${encodeURIComponent('A\\|B')}`)).toEqual(['org-comma']);
  });
});
