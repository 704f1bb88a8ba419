import { summariseTimeliness, withLeadTimes } from './timeliness';

describe('timeliness of discharge notice', () => {
  test('lead times are positive when told before the discharge, negative after, absent when never told; summed per hospital, ward, role and notice', () => {
    const base = { hospital: 'RZZ', ward: 'Ward 7', dischargedAt: '2026-11-23T12:00:00Z', recipientRole: 'gp-practice' as const };
    const rows = [
      withLeadTimes({ ...base, encounterId: 'e1', recipient: 'a', pendingToldAt: '2026-11-22T12:00:00Z', actualToldAt: '2026-11-23T12:10:00Z' }),
      withLeadTimes({ ...base, encounterId: 'e2', recipient: 'a', actualToldAt: '2026-11-23T11:00:00Z' }),
      withLeadTimes({ ...base, encounterId: 'e3', recipient: 'a', pendingToldAt: '2026-11-23T10:00:00Z' }),
    ];
    expect(rows.map((r) => [r.pendingLeadSeconds, r.actualLeadSeconds])).toEqual([[86_400, -600], [undefined, 3_600], [7_200, undefined]]);
    expect(summariseTimeliness(rows)).toEqual([
      { hospital: 'RZZ', ward: 'Ward 7', recipientRole: 'gp-practice', notice: 'actual', discharges: 3, inTime: 1, late: 1, notTold: 1, medianLeadSeconds: 1_500, minLeadSeconds: -600 },
      { hospital: 'RZZ', ward: 'Ward 7', recipientRole: 'gp-practice', notice: 'pending', discharges: 3, inTime: 2, late: 0, notTold: 1, medianLeadSeconds: 46_800, minLeadSeconds: 7_200 },
    ]);
  });
});
