import type { Bundle, Patient } from '@medplum/fhirtypes';
import { body, expectOutcome, matchIds, patient, startHarness, type Harness } from './harness';

/** Result parameters: _count, _sort, _summary=count, _total. */

const WITH_BIRTH_DATE = 24;

/** pat-r01 … pat-r24 born in distinct years in an order unlike their ids, and pat-r25 with no birth date. */
const people: Patient[] = [
  ...Array.from({ length: WITH_BIRTH_DATE }, (_, i) => {
    const n = i + 1;
    return patient({ id: `pat-r${String(n).padStart(2, '0')}`, family: `Counted${n}`, gender: n % 2 === 0 ? 'female' : 'male', birthDate: `${1930 + ((n * 7) % 25)}-06-15` });
  }),
  patient({ id: 'pat-r25', family: 'Undated', gender: 'female' }),
];

const byId = people.map((p) => p.id as string).sort();
const dated = people.filter((p) => p.birthDate);
const byBirthDate = [...dated].sort((a, b) => (a.birthDate as string).localeCompare(b.birthDate as string)).map((p) => p.id as string);

let h: Harness;

beforeAll(async () => {
  h = await startHarness([{ resources: people }]);
});

afterAll(async () => {
  await h.close();
});

describe('_count', () => {
  it('defaults to 20 per page, with the total and a next link', async () => {
    const res = await h.get('/fhir/Patient');
    expect(res.status).toBe(200);
    const bundle = body<Bundle>(res);
    expect(bundle.total).toBe(25);
    expect(matchIds(res)).toEqual(byId.slice(0, 20));
    expect(bundle.link?.map((l) => l.relation)).toEqual(['self', 'next']);
    expect(bundle.link?.[0]?.url).toBe('https://carebridge.test/fhir/Patient');
  });

  it('accepts the maximum of 1000', async () => {
    const res = await h.get('/fhir/Patient?_count=1000');
    expect(res.status).toBe(200);
    expect(matchIds(res)).toEqual(byId);
    expect(body<Bundle>(res).link?.map((l) => l.relation)).toEqual(['self']);
  });

  it('answers 400 for 1001', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?_count=1001'), 400, 'invalid');
    expect(issue.details?.text).toBe('_count may be at most 1000');
    expect(issue.expression).toEqual(['_count']);
  });

  it('_count=0 returns the total and no entries', async () => {
    const res = await h.get('/fhir/Patient?_count=0');
    expect(res.status).toBe(200);
    const bundle = body<Bundle>(res);
    expect(bundle.total).toBe(25);
    expect(bundle.entry ?? []).toEqual([]);
  });

  it('a small _count gives that many', async () => {
    const res = await h.get('/fhir/Patient?_count=3');
    expect(matchIds(res)).toEqual(byId.slice(0, 3));
    expect(body<Bundle>(res).total).toBe(25);
  });

  it.each(['abc', '-1', '1.5', '1e3', '99999999999', ''])('answers 400 for _count=%s', async (value) => {
    const issue = expectOutcome(await h.get(`/fhir/Patient?_count=${value}`), 400, 'invalid');
    expect(issue.details?.text).toBe('_count must be a whole number from 0 to 1000');
    expect(issue.expression).toEqual(['_count']);
  });

  it('answers 400 when _count is given twice', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?_count=2&_count=3'), 400, 'invalid');
    expect(issue.details?.text).toBe('_count may be given only once');
  });
});

describe('_sort', () => {
  it('sorts by birthdate ascending, missing values last', async () => {
    const res = await h.get('/fhir/Patient?_sort=birthdate&_count=100');
    expect(matchIds(res)).toEqual([...byBirthDate, 'pat-r25']);
  });

  it('sorts by birthdate descending, missing values still last', async () => {
    const res = await h.get('/fhir/Patient?_sort=-birthdate&_count=100');
    expect(matchIds(res)).toEqual([...[...byBirthDate].reverse(), 'pat-r25']);
  });

  it('sorts by _id ascending and descending', async () => {
    expect(matchIds(await h.get('/fhir/Patient?_sort=_id&_count=100'))).toEqual(byId);
    expect(matchIds(await h.get('/fhir/Patient?_sort=-_id&_count=100'))).toEqual([...byId].reverse());
  });

  it('sorts by several keys in order', async () => {
    const res = await h.get('/fhir/Patient?_sort=gender,-birthdate&_count=100');
    const key = (p: Patient): string => p.gender as string;
    const expected = [...dated]
      .sort((a, b) => key(a).localeCompare(key(b)) || (b.birthDate as string).localeCompare(a.birthDate as string))
      .map((p) => p.id as string);
    // 'female' < 'male'; the undated woman comes last among the women.
    const women = expected.filter((id) => people.find((p) => p.id === id)?.gender === 'female');
    const men = expected.filter((id) => people.find((p) => p.id === id)?.gender === 'male');
    expect(matchIds(res)).toEqual([...women, 'pat-r25', ...men]);
  });

  it('sorts a filtered search', async () => {
    const res = await h.get('/fhir/Patient?birthdate=ge1950&_sort=-birthdate');
    const expected = dated
      .filter((p) => (p.birthDate as string) >= '1950')
      .sort((a, b) => (b.birthDate as string).localeCompare(a.birthDate as string))
      .map((p) => p.id as string);
    expect(expected).toHaveLength(5);
    expect(matchIds(res)).toEqual(expected);
    expect(body<Bundle>(res).total).toBe(5);
  });

  it('pages through a birthdate sort, across the patient with no birth date, in both directions', async () => {
    for (const [sort, expected] of [
      ['birthdate', [...byBirthDate, 'pat-r25']],
      ['-birthdate', [...[...byBirthDate].reverse(), 'pat-r25']],
    ] as const) {
      const seen: string[] = [];
      let path: string | undefined = `/fhir/Patient?_sort=${sort}&_count=4`;
      for (let page = 0; path !== undefined && page < 20; page++) {
        const res = await h.get(path);
        expect(res.status).toBe(200);
        seen.push(...matchIds(res));
        const next = body<Bundle>(res).link?.find((l) => l.relation === 'next')?.url;
        path = next?.slice('https://carebridge.test'.length);
      }
      expect(seen).toEqual(expected);
    }
  });

  it('answers 400 naming an unknown sort parameter', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?_sort=shoe-size'), 400, 'invalid');
    expect(issue.details?.text).toBe("Cannot sort Patient by unknown parameter 'shoe-size'");
    expect(issue.expression).toEqual(['_sort']);
  });
});

describe('_summary and _total', () => {
  it('_summary=count returns only the total', async () => {
    const res = await h.get('/fhir/Patient?_summary=count');
    expect(res.status).toBe(200);
    const bundle = body<Bundle>(res);
    expect(bundle.type).toBe('searchset');
    expect(bundle.total).toBe(25);
    expect(bundle.entry ?? []).toEqual([]);
    expect(bundle.link?.map((l) => l.relation)).toEqual(['self']);
  });

  it('_summary=count counts a filtered search', async () => {
    const bundle = body<Bundle>(await h.get('/fhir/Patient?gender=female&_summary=count'));
    expect(bundle.total).toBe(13);
    expect(bundle.entry ?? []).toEqual([]);
  });

  it('_summary=count ignores _count', async () => {
    const bundle = body<Bundle>(await h.get('/fhir/Patient?_summary=count&_count=5'));
    expect(bundle.total).toBe(25);
    expect(bundle.entry ?? []).toEqual([]);
  });

  it('_total=none leaves the total out but returns the page', async () => {
    const res = await h.get('/fhir/Patient?_total=none&_count=4');
    const bundle = body<Bundle>(res);
    expect(Object.keys(bundle)).not.toContain('total');
    expect(matchIds(res)).toEqual(byId.slice(0, 4));
  });

  it('_total=accurate gives the total', async () => {
    expect(body<Bundle>(await h.get('/fhir/Patient?_total=accurate&_count=4')).total).toBe(25);
  });

  it('answers 400 for unsupported _summary and _total values', async () => {
    const summary = expectOutcome(await h.get('/fhir/Patient?_summary=true'), 400, 'invalid');
    expect(summary.details?.text).toBe('_summary=true is not supported (count and false are)');
    expect(summary.expression).toEqual(['_summary']);
    const total = expectOutcome(await h.get('/fhir/Patient?_total=lots'), 400, 'invalid');
    expect(total.details?.text).toBe('_total must be none, estimate or accurate');
    expect(total.expression).toEqual(['_total']);
  });
});
