import { instantToLondonLocal, londonLocalToInstant } from './london-time';

describe('datetime-local values read as Europe/London time', () => {
  test('in winter (GMT) the offset is +00:00, in summer (BST) +01:00', () => {
    expect(londonLocalToInstant('2026-11-20T02:30')).toEqual({ instant: '2026-11-20T02:30:00+00:00' });
    expect(londonLocalToInstant('2026-07-01T09:05')).toEqual({ instant: '2026-07-01T09:05:00+01:00' });
    expect(londonLocalToInstant('2026-07-01T09:05:30')).toEqual({ instant: '2026-07-01T09:05:30+01:00' });
  });

  test('the spring change (29 March 2026, 01:00 GMT → 02:00 BST): before is GMT, the skipped hour does not exist, after is BST', () => {
    expect(londonLocalToInstant('2026-03-29T00:59')).toEqual({ instant: '2026-03-29T00:59:00+00:00' });
    expect(londonLocalToInstant('2026-03-29T01:00')).toEqual({ problem: 'nonexistent' });
    expect(londonLocalToInstant('2026-03-29T01:59')).toEqual({ problem: 'nonexistent' });
    expect(londonLocalToInstant('2026-03-29T02:00')).toEqual({ instant: '2026-03-29T02:00:00+01:00' });
    // 02:00 BST is one minute after 00:59 GMT.
    expect(Date.parse('2026-03-29T02:00:00+01:00') - Date.parse('2026-03-29T00:59:00+00:00')).toBe(60_000);
  });

  test('the autumn change (25 October 2026, 02:00 BST → 01:00 GMT): the repeated hour reads as its first, summer-time occurrence', () => {
    expect(londonLocalToInstant('2026-10-25T00:30')).toEqual({ instant: '2026-10-25T00:30:00+01:00' });
    expect(londonLocalToInstant('2026-10-25T01:30')).toEqual({ instant: '2026-10-25T01:30:00+01:00' });
    expect(londonLocalToInstant('2026-10-25T02:00')).toEqual({ instant: '2026-10-25T02:00:00+00:00' });
  });

  test('anything but a real date and time is refused', () => {
    expect(londonLocalToInstant('')).toEqual({ problem: 'format' });
    expect(londonLocalToInstant('20/11/2026 02:30')).toEqual({ problem: 'format' });
    expect(londonLocalToInstant('2026-02-31T10:00')).toEqual({ problem: 'format' });
    expect(londonLocalToInstant('2026-11-20T24:00')).toEqual({ problem: 'format' });
    expect(londonLocalToInstant('2026-11-20T02:30Z')).toEqual({ problem: 'format' });
  });

  test('an instant goes back into a form as London wall-clock time', () => {
    expect(instantToLondonLocal('2026-11-20T02:30:00Z')).toBe('2026-11-20T02:30');
    expect(instantToLondonLocal('2026-07-01T08:05:00Z')).toBe('2026-07-01T09:05');
    expect(instantToLondonLocal('not a date')).toBe('');
  });
});
