import { GrantKind, grantsAt, PermissionToView, recordGrant, type Grant } from '../../gateway/access/grants';
import { PurposeOfUse, type Requester } from '../../gateway/access/hooks';
import { Store } from '../../gateway/store/store';

const nurse: Requester = { userId: 'u-nurse', role: 'community_nurse', organisation: 'https://fhir.nhs.uk/Id/ods-organization-code|RY4', purposeOfUse: PurposeOfUse.TREAT };
const t0 = new Date('2026-11-23T09:00:00Z');
const hours = (h: number): Date => new Date(t0.getTime() + h * 3600_000);
const activeGrants = async (db: Store['engine'], userId: string, personIds: string[], now: Date): Promise<Grant[]> => (await grantsAt(db, userId, personIds, now)).active;

describe('access grants', () => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open({});
    await store.migrate();
  });
  afterAll(() => store.close());

  it('keeps break-glass for four hours and finds it through any source record of the person', async () => {
    const grant = await recordGrant(store.engine, { kind: GrantKind.BREAK_GLASS, requester: nurse, patientId: 'p-hosp', personIds: ['p-hosp', 'p-gp'], reasonText: 'Collapsed at home, unconscious', now: t0 });
    expect(grant.expiresAt).toBe('2026-11-23T13:00:00.000Z');
    expect((await activeGrants(store.engine, 'u-nurse', ['p-gp'], hours(3.9))).map((g) => g.id)).toEqual([grant.id]);
    expect(await activeGrants(store.engine, 'u-nurse', ['p-gp'], hours(4))).toEqual([]);
    expect(await activeGrants(store.engine, 'u-other', ['p-gp'], hours(1))).toEqual([]);
  });

  it('lets a later permission-to-view answer replace an earlier one', async () => {
    await recordGrant(store.engine, { kind: GrantKind.PERMISSION_TO_VIEW, requester: nurse, patientId: 'p-2', personIds: ['p-2'], decision: PermissionToView.GIVEN, now: t0 });
    await recordGrant(store.engine, { kind: GrantKind.PERMISSION_TO_VIEW, requester: nurse, patientId: 'p-2', personIds: ['p-2'], decision: PermissionToView.REFUSED, now: hours(1) });
    const active = await activeGrants(store.engine, 'u-nurse', ['p-2'], hours(2));
    expect(active.map((g) => [g.kind, g.decision])).toEqual([['permission-to-view', 'refused']]);
    expect(active[0]?.expiresAt).toBe('2026-11-23T18:00:00.000Z');
  });

  it('does not count a grant recorded after the moment asked about', async () => {
    await recordGrant(store.engine, { kind: GrantKind.SELF_CLAIM, requester: nurse, patientId: 'p-3', personIds: ['p-3'], reasonCode: 'direct-care-patient-presented', now: hours(5) });
    expect(await activeGrants(store.engine, 'u-nurse', ['p-3'], hours(4))).toEqual([]);
    expect((await activeGrants(store.engine, 'u-nurse', ['p-3'], hours(28.9))).map((g) => g.reasonCode)).toEqual(['direct-care-patient-presented']);
  });

  it('says when the grants could next read otherwise: a later one beginning, or the first running one ending', async () => {
    const glass = await recordGrant(store.engine, { kind: GrantKind.BREAK_GLASS, requester: nurse, patientId: 'p-4', personIds: ['p-4'], reasonText: 'Collapsed', now: hours(1) });
    await recordGrant(store.engine, { kind: GrantKind.SELF_CLAIM, requester: nurse, patientId: 'p-4', personIds: ['p-4'], reasonCode: 'direct-care-patient-presented', now: hours(3) });
    // At 2 h: break-glass runs (until 5 h); the claim recorded for 3 h begins first.
    expect(await grantsAt(store.engine, 'u-nurse', ['p-4'], hours(2))).toEqual({ active: [expect.objectContaining({ id: glass.id })], nextChange: hours(3).getTime() });
    // At 3.5 h both run; break-glass ends at 5 h, before the claim's 24 hours.
    const both = await grantsAt(store.engine, 'u-nurse', ['p-4'], hours(3.5));
    expect([both.active.map((g) => g.kind), both.nextChange]).toEqual([['self-claimed', 'break-glass'], hours(5).getTime()]);
    // Nothing running or to come: no change to wait for.
    expect(await grantsAt(store.engine, 'u-nurse', ['p-4'], hours(40))).toEqual({ active: [] });
  });
});
