import { notificationBundle, NotificationType, PayloadContent, SubscriptionState } from './notification';
import { readSubscription } from './subscription';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const sub = (fields: Record<string, unknown> = {}, filters = ['recipient=https://fhir.nhs.uk/Id/ods-organization-code|Y90001']): Record<string, unknown> => ({
  resourceType: 'Subscription',
  status: 'requested',
  criteria: 'https://carebridge.nhs.uk/fhir/SubscriptionTopic/cancellation',
  _criteria: { extension: filters.map((f) => ({ url: `${BACKPORT}/backport-filter-criteria`, valueString: f })) },
  channel: { type: 'rest-hook', endpoint: 'https://gp.example/hook', payload: 'application/fhir+json' },
  ...fields,
});

describe('reading a posted Subscription', () => {
  test('the topic, the recipient, the cancellation filter and id-only content by default', () => {
    const read = readSubscription(sub({}, ['Encounter?recipient=https://fhir.nhs.uk/Id/ods-organization-code|Y90001', 'event=discharge,pending-discharge']), { allowHttp: false });
    expect(read).toEqual({
      ok: true,
      terms: { topic: 'cancellation', recipient: 'https://fhir.nhs.uk/Id/ods-organization-code|Y90001', cancelledEvents: ['discharge', 'pending-discharge'], channelType: 'rest-hook', endpoint: 'https://gp.example/hook', content: 'id-only', headers: [], reason: '' },
    });
  });

  test('no recipient, an unknown filter, credentials in the URL, a short secret and a bad header are each named', () => {
    const read = readSubscription(
      sub({ extension: [{ url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/subscription-signing-secret', valueString: 'short' }], channel: { type: 'rest-hook', endpoint: 'https://u:p@gp.example/hook', header: ['bad\nheader'] } }, ['ward=7']),
      { allowHttp: false },
    );
    expect(read.ok ? [] : read.problems.map((p) => p.text)).toEqual([
      "unknown filter 'ward': the topics take recipient (and event for cancellations)",
      'a recipient filter is required (backport-filter-criteria recipient=system|value): subscriptions are for one organisation or team',
      'endpoint must not carry credentials; use channel.header',
      'each header is "Name: value" on one line',
      'a signing secret given by the subscriber is at least 32 characters',
    ]);
  });

  test('an e-mail channel takes one mailto: address', () => {
    expect(readSubscription(sub({ channel: { type: 'email', endpoint: 'mailto:a@nhs.net' } }), { allowHttp: false }).ok).toBe(true);
    const bad = readSubscription(sub({ channel: { type: 'email', endpoint: 'mailto:a@nhs.net,b@nhs.net' } }), { allowHttp: false });
    expect(bad.ok ? [] : bad.problems.map((p) => p.expression)).toEqual(['Subscription.channel.endpoint']);
  });

  test('a heartbeat period is read in seconds, between a minute and a day, for rest-hook channels only', () => {
    const heartbeat = (seconds: unknown, type = 'rest-hook', endpoint = 'https://gp.example/hook'): ReturnType<typeof readSubscription> =>
      readSubscription(sub({ channel: { type, endpoint, extension: [{ url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: seconds }] } }), { allowHttp: false });
    const ok = heartbeat(300);
    expect(ok.ok && ok.terms.heartbeatSeconds).toBe(300);
    const none = readSubscription(sub(), { allowHttp: false });
    expect(none.ok && 'heartbeatSeconds' in none.terms).toBe(false);
    for (const bad of [59, 86_401, 1.5, '300']) {
      const read = heartbeat(bad);
      expect(read.ok ? [] : read.problems.map((p) => p.text)).toEqual(['heartbeat period is 60 to 86400 seconds']);
    }
    const email = heartbeat(300, 'email', 'mailto:a@nhs.net');
    expect(email.ok ? [] : email.problems.map((p) => p.text)).toEqual(['heartbeats are for rest-hook channels only']);
  });
});

describe('the notification bundle', () => {
  test('a history Bundle whose first entry is the backport status Parameters, then the references to look at', () => {
    const bundle = notificationBundle({
      bundleId: 'b1',
      timestamp: '2026-11-23T10:00:01Z',
      fhirBase: 'https://cb.test/fhir',
      subscriptionId: 's1',
      topic: 'discharge',
      status: SubscriptionState.ACTIVE,
      type: NotificationType.EVENT_NOTIFICATION,
      eventsSinceSubscriptionStart: 7,
      content: PayloadContent.ID_ONLY,
      events: [{ eventNumber: 7, timestamp: '2026-11-23T10:00:00Z', kind: 'discharge', focus: 'Encounter/e1', additionalContext: ['Patient/p1'] }],
    });
    expect(bundle).toEqual({
      resourceType: 'Bundle',
      id: 'b1',
      meta: { profile: [`${BACKPORT}/backport-subscription-notification-r4`] },
      type: 'history',
      timestamp: '2026-11-23T10:00:01Z',
      entry: [
        {
          fullUrl: 'urn:uuid:b1-status',
          resource: {
            resourceType: 'Parameters',
            meta: { profile: [`${BACKPORT}/backport-subscription-status-r4`] },
            parameter: [
              { name: 'subscription', valueReference: { reference: 'https://cb.test/fhir/Subscription/s1' } },
              { name: 'topic', valueCanonical: 'https://carebridge.nhs.uk/fhir/SubscriptionTopic/discharge' },
              { name: 'status', valueCode: 'active' },
              { name: 'type', valueCode: 'event-notification' },
              { name: 'events-since-subscription-start', valueString: '7' },
              {
                name: 'notification-event',
                extension: [{ url: 'https://carebridge.nhs.uk/fhir/StructureDefinition/notification-event-kind', valueCode: 'discharge' }],
                part: [
                  { name: 'event-number', valueString: '7' },
                  { name: 'timestamp', valueInstant: '2026-11-23T10:00:00Z' },
                  { name: 'focus', valueReference: { reference: 'https://cb.test/fhir/Encounter/e1' } },
                  { name: 'additional-context', valueReference: { reference: 'https://cb.test/fhir/Patient/p1' } },
                ],
              },
            ],
          },
        },
        { fullUrl: 'https://cb.test/fhir/Encounter/e1', request: { method: 'GET', url: 'Encounter/e1' }, response: { status: '200' } },
        { fullUrl: 'https://cb.test/fhir/Patient/p1', request: { method: 'GET', url: 'Patient/p1' }, response: { status: '200' } },
      ],
    });
  });
});
