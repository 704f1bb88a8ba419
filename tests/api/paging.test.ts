import type { Bundle, Patient } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { body, expectOutcome, linkPath, matchIds, patient, startHarness, type Harness } from './harness';

/** Keyset paging: next/previous links, stability while data changes, and cursor validation. */

const COHORT = 'urn:carebridge-test:cohort';

function member(cohort: string, id: string, family: string, birthDate: string): Patient {
  return patient({ id, family, birthDate, extra: { identifier: [{ system: COHORT, value: cohort }] } });
}

// Seven people whose birth-date order differs from their id order.
const cohortA: Patient[] = [
  member('A', 'a-1', 'Adams', '1951-03-03'),
  member('A', 'a-2', 'Baker', '1939-07-14'),
  member('A', 'a-3', 'Clarke', '1960-01-01'),
  member('A', 'a-4', 'Davies', '1944-11-30'),
  member('A', 'a-5', 'Evans', '1939-07-15'),
  member('A', 'a-6', 'Fisher', '1972-02-29'),
  member('A', 'a-7', 'Green', '1948-05-05'),
];
const aByBirthDate = ['a-2', 'a-5', 'a-4', 'a-7', 'a-1', 'a-3', 'a-6'];

// Another seven, changed while a client pages through them.
const cohortB: Patient[] = [
  member('B', 'b-1', 'Hughes', '1940-01-01'),
  member('B', 'b-2', 'Iqbal', '1941-01-01'),
  member('B', 'b-3', 'James', '1942-01-01'),
  member('B', 'b-4', 'Khan', '1943-01-01'),
  member('B', 'b-5', 'Lewis', '1944-01-01'),
  member('B', 'b-6', 'Morgan', '1945-01-01'),
  member('B', 'b-7', 'Nolan', '1946-01-01'),
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness([{ resources: [...cohortA, ...cohortB] }]);
});

afterAll(async () => {
  await h.close();
});

const relations = (res: Response): string[] => (body<Bundle>(res).link ?? []).map((l) => l.relation);

/** Follows `relation` links from `start` until there is none, returning the pages. */
async function follow(start: Response, relation: 'next' | 'previous'): Promise<Response[]> {
  const pages = [start];
  for (let path = linkPath(start, relation); path !== undefined; ) {
    const res = await h.get(path);
    expect(res.status).toBe(200);
    pages.push(res);
    path = linkPath(res, relation);
    if (pages.length > 20) throw new Error('paging did not end');
  }
  return pages;
}

describe('following next and previous links', () => {
  it('visits every patient exactly once, in birth-date order, two at a time', async () => {
    const first = await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=birthdate&_count=2`);
    expect(first.status).toBe(200);
    expect(body<Bundle>(first).total).toBe(7);
    const pages = await follow(first, 'next');
    expect(pages.map(matchIds)).toEqual([['a-2', 'a-5'], ['a-4', 'a-7'], ['a-1', 'a-3'], ['a-6']]);
    expect(pages.flatMap(matchIds)).toEqual(aByBirthDate);
    expect(pages.map(relations)).toEqual([
      ['self', 'next'],
      ['self', 'next', 'previous'],
      ['self', 'next', 'previous'],
      ['self', 'previous'],
    ]);
  });

  it('keeps the search parameters in the links', async () => {
    const first = await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=birthdate&_count=2`);
    const next = new URL(`https://x${linkPath(first, 'next') as string}`);
    expect(next.pathname).toBe('/fhir/Patient');
    expect(next.searchParams.get('identifier')).toBe(`${COHORT}|A`);
    expect(next.searchParams.get('_sort')).toBe('birthdate');
    expect(next.searchParams.get('_count')).toBe('2');
    expect(next.searchParams.get('_cursor')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('walks back with previous links from the last page to the first', async () => {
    const forward = await follow(await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=birthdate&_count=2`), 'next');
    const last = forward[forward.length - 1] as Response;
    const backward = await follow(last, 'previous');
    expect(backward.map(matchIds)).toEqual([['a-6'], ['a-1', 'a-3'], ['a-4', 'a-7'], ['a-2', 'a-5']]);
    // The first page reached backwards has no previous link, and a next link again.
    expect(relations(backward[backward.length - 1] as Response)).toEqual(['self', 'next']);
  });

  it('pages in descending order', async () => {
    const pages = await follow(await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=-birthdate&_count=3`), 'next');
    expect(pages.map(matchIds)).toEqual([['a-6', 'a-3', 'a-1'], ['a-7', 'a-4', 'a-5'], ['a-2']]);
  });

  it('pages in id order when no _sort is given', async () => {
    const pages = await follow(await h.get(`/fhir/Patient?identifier=${COHORT}|A&_count=3`), 'next');
    expect(pages.map(matchIds)).toEqual([['a-1', 'a-2', 'a-3'], ['a-4', 'a-5', 'a-6'], ['a-7']]);
  });

  it('ends without a next link when the last page is exactly full', async () => {
    const pages = await follow(await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=-_id&_count=7`), 'next');
    expect(pages.map(matchIds)).toEqual([['a-7', 'a-6', 'a-5', 'a-4', 'a-3', 'a-2', 'a-1']]);
    expect(relations(pages[0] as Response)).toEqual(['self']);
  });
});

describe('paging while the data changes', () => {
  it('continues without duplicates or skips after an insert before the cursor and an update', async () => {
    const first = await h.get(`/fhir/Patient?identifier=${COHORT}|B&_sort=birthdate&_count=2`);
    expect(matchIds(first)).toEqual(['b-1', 'b-2']);

    // A newcomer who sorts before the cursor, a newcomer after it, and an update of someone not yet seen.
    await h.store.upsert([
      member('B', 'b-0-early', 'Early', '1930-01-01'),
      member('B', 'b-9-late', 'Late', '1990-01-01'),
      { ...(cohortB[4] as Patient), name: [{ family: 'Lewis-Renamed' }] },
      // And an update of someone already seen.
      { ...(cohortB[0] as Patient), name: [{ family: 'Hughes-Renamed' }] },
    ]);

    const rest = await follow(first, 'next');
    const seen = rest.flatMap(matchIds);
    expect(seen).toEqual(['b-1', 'b-2', 'b-3', 'b-4', 'b-5', 'b-6', 'b-7', 'b-9-late']);
    expect(new Set(seen).size).toBe(seen.length);
    const lewis = rest.flatMap((r) => body<Bundle>(r).entry ?? []).find((e) => e.resource?.id === 'b-5')?.resource as Patient;
    expect(lewis.name?.[0]?.family).toBe('Lewis-Renamed');
    expect(lewis.meta?.versionId).toBe('2');
  });

  it('a fresh search afterwards includes the newcomer', async () => {
    const pages = await follow(await h.get(`/fhir/Patient?identifier=${COHORT}|B&_sort=birthdate&_count=4`), 'next');
    expect(pages.flatMap(matchIds)).toEqual(['b-0-early', 'b-1', 'b-2', 'b-3', 'b-4', 'b-5', 'b-6', 'b-7', 'b-9-late']);
  });
});

describe('cursor validation', () => {
  const cursorText = 'The paging cursor is not valid for this search; start again from the first page.';

  it('answers 400 for a cursor that is not one of ours', async () => {
    const issue = expectOutcome(await h.get('/fhir/Patient?_sort=birthdate&_cursor=not-a-cursor'), 400, 'invalid');
    expect(issue.details?.text).toBe(cursorText);
    expect(issue.expression).toEqual(['_cursor']);
  });

  it('answers 400 for a cursor made for a different number of sort keys', async () => {
    const first = await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=birthdate&_count=2`);
    const cursor = new URL(`https://x${linkPath(first, 'next') as string}`).searchParams.get('_cursor') as string;
    const issue = expectOutcome(await h.get(`/fhir/Patient?identifier=${COHORT}|A&_count=2&_cursor=${cursor}`), 400, 'invalid');
    expect(issue.details?.text).toBe(cursorText);
  });

  it('answers 400 for a cursor whose sort value was tampered with', async () => {
    const first = await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=birthdate&_count=2`);
    const cursor = new URL(`https://x${linkPath(first, 'next') as string}`).searchParams.get('_cursor') as string;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string[], string];
    expect(decoded[0]).toBe('n');
    expect(decoded[2]).toBe('a-5');
    const tampered = Buffer.from(JSON.stringify(['n', ["1939'; DROP TABLE resource;--"], 'a-5'])).toString('base64url');
    const issue = expectOutcome(await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=birthdate&_count=2&_cursor=${tampered}`), 400, 'invalid');
    expect(issue.details?.text).toBe(cursorText);
    expect(issue.expression).toEqual(['_cursor']);
  });

  it('answers 400 for a cursor from a search sorted by another parameter type', async () => {
    const byFamily = await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=family&_count=2`);
    const cursor = new URL(`https://x${linkPath(byFamily, 'next') as string}`).searchParams.get('_cursor') as string;
    const issue = expectOutcome(await h.get(`/fhir/Patient?identifier=${COHORT}|A&_sort=birthdate&_count=2&_cursor=${cursor}`), 400, 'invalid');
    expect(issue.details?.text).toBe(cursorText);
  });

  it('the data is intact after tampered cursors', async () => {
    const res = await h.get(`/fhir/Patient?identifier=${COHORT}|A&_summary=count`);
    expect(body<Bundle>(res).total).toBe(7);
  });
});
