import { Hl7EventKind } from '../hl7v2/tables/events';
import { ALL_TOPICS, RedBagEventKind, topicCanonical, topicOfCanonical, topicOfEvent } from './topics';

describe('topics', () => {
  test('every outbox kind of the hospital feed maps to its topic, cancellations say what they withdrew', () => {
    const table = Object.values(Hl7EventKind).map((kind) => [kind, topicOfEvent(kind)?.topic ?? null, topicOfEvent(kind)?.cancelled ?? null]);
    expect(table).toEqual([
      ['admission', 'admission', null],
      ['ed-attendance', 'ed-attendance', null],
      ['registration', null, null],
      ['transfer', 'transfer', null],
      ['discharge', 'discharge', null],
      ['death', 'death', null],
      ['pre-admission', null, null],
      ['pending-admission', null, null],
      ['pending-discharge', 'pending-discharge', null],
      ['change-to-inpatient', 'admission', null],
      ['change-to-outpatient', null, null],
      ['update', null, null],
      ['cancel-admission', 'cancellation', 'admission'],
      ['cancel-transfer', 'cancellation', 'transfer'],
      ['cancel-discharge', 'cancellation', 'discharge'],
      ['cancel-pending-admission', 'cancellation', 'pending-admission'],
      ['cancel-pending-discharge', 'cancellation', 'pending-discharge'],
      ['person-added', null, null],
      ['person-updated', null, null],
      ['merge', null, null],
      ['document', null, null],
    ]);
  });

  test('each step of the red bag journey has its own topic; undoing a step is a cancellation', () => {
    expect(Object.values(RedBagEventKind).map((k) => topicOfEvent(k)?.topic)).toEqual([
      'red-bag-passport-issued', 'red-bag-sent', 'red-bag-received', 'red-bag-awaiting-discharge', 'red-bag-discharge-passport-issued', 'red-bag-returned', 'cancellation',
    ]);
  });

  test('canonical URLs round-trip, with or without a version; others are not ours', () => {
    for (const topic of ALL_TOPICS) expect(topicOfCanonical(`${topicCanonical(topic)}|1.0`)).toBe(topic);
    expect(topicOfCanonical('http://hl7.org/SubscriptionTopic/admission')).toBeUndefined();
    expect(topicOfCanonical('https://carebridge.nhs.uk/fhir/SubscriptionTopic/lunch')).toBeUndefined();
  });
});
