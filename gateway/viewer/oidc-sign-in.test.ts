import { sessionEndsAt } from './oidc-sign-in';

describe('how long an OpenID Connect session lasts', () => {
  const now = new Date('2026-12-01T09:00:00Z');
  test('it ends when the ID token expires, when that comes before the configured maximum', () => {
    expect(sessionEndsAt(new Date('2026-12-01T10:00:00Z'), now, 8).toISOString()).toBe('2026-12-01T10:00:00.000Z');
  });
  test('it ends after the configured maximum, when the ID token lives longer', () => {
    expect(sessionEndsAt(new Date('2026-12-02T09:00:00Z'), now, 8).toISOString()).toBe('2026-12-01T17:00:00.000Z');
    expect(sessionEndsAt(new Date('2026-12-02T09:00:00Z'), now, 0.5).toISOString()).toBe('2026-12-01T09:30:00.000Z');
  });
});
