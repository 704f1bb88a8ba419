import { mapHl7Message } from '../../mappings/hl7v2/map-message';
import { DEFAULT_CONTEXT, parseBytes } from './fixtures';

/** Behaviour the golden files show only in passing, asserted on small inline messages. */
const MSH = (type: string, id = 'EDGE-1'): string => `MSH|^~\\&|PAS|RZZ|CAREBRIDGE|CAREBRIDGE|20250714103000||${type}|${id}|P|2.4`;
const map = (segments: string[], context: Partial<typeof DEFAULT_CONTEXT> = {}): ReturnType<typeof mapHl7Message> =>
  mapHl7Message(parseBytes(Buffer.from(segments.join('\r'), 'utf8')), { ...DEFAULT_CONTEXT, ...context });
const PID = 'PID|1||RZZ42^^^RZZ^MR~9990000018^^^NHS^NH||TESTNAME^Alex||19600101|F';
const verification = (result: ReturnType<typeof mapHl7Message>): string | undefined => {
  const patient = result.resources.find((r) => r.resourceType === 'Patient');
  if (patient?.resourceType !== 'Patient') return undefined;
  return patient.identifier?.[0]?.extension?.[0]?.valueCodeableConcept?.coding?.[0]?.code;
};

test('an unsupported message type is error 200 and maps nothing', () => {
  const result = map([MSH('ORU^R01^ORU_R01'), PID]);
  expect(result.event).toBeUndefined();
  expect(result.resources).toEqual([]);
  expect(result.issues).toEqual([expect.objectContaining({ severity: 'error', code: '200', location: { segment: 'MSH', position: 1, field: 9 } })]);
});

test('an MDM trigger under ADT is error 201', () => {
  expect(map([MSH('ADT^T02^MDM_T02'), PID]).issues[0]).toMatchObject({ severity: 'error', code: '201' });
});

test('NHS number verification: PID-32 wins over the sender setting, which applies when PID-32 is empty', () => {
  expect(verification(map([MSH('ADT^A28^ADT_A05'), PID]))).toBeUndefined();
  expect(verification(map([MSH('ADT^A28^ADT_A05'), PID], { nhsNumberVerifiedBySender: true }))).toBe('01');
  expect(verification(map([MSH('ADT^A28^ADT_A05'), PID], { nhsNumberVerifiedBySender: false }))).toBe('02');
  const withPid32 = `${PID}||||||||||||||||||||||||03`;
  expect(verification(map([MSH('ADT^A28^ADT_A05'), withPid32], { nhsNumberVerifiedBySender: true }))).toBe('03');
  expect(verification(map([MSH('ADT^A28^ADT_A05'), `${PID}||||||||||||||||||||||||1`]))).toBe('01');
});

test('a table 0445 identity reliability code says nothing about the NHS number and is not reported', () => {
  const result = map([MSH('ADT^A28^ADT_A05'), 'EVN|A28|20250714103000', `${PID}||||||||||||||||||||||||AL`], { nhsNumberVerifiedBySender: true });
  expect(verification(result)).toBe('01');
  expect(result.issues).toEqual([]);
});

test('an A08 without a visit number updates the patient only, with a warning', () => {
  const result = map([MSH('ADT^A08^ADT_A01'), 'EVN|A08|20250714103000', PID, 'PV1|1|I']);
  expect(result.visit).toBeUndefined();
  expect(result.resources.map((r) => r.resourceType)).toEqual(['Patient', 'Organization', 'Provenance']);
  expect(result.issues).toEqual([expect.objectContaining({ severity: 'warning', code: '101', location: { segment: 'PV1', position: 4, field: 19 } })]);
});

test('an A01 without a visit number is an error: it cannot be applied to a visit', () => {
  const result = map([MSH('ADT^A01^ADT_A01'), 'EVN|A01|20250714103000', PID, 'PV1|1|I']);
  expect(result.issues).toEqual([expect.objectContaining({ severity: 'error', code: '101', location: { segment: 'PV1', position: 4, field: 19 } })]);
});

test('an ADT without EVN takes its event time from MSH-7, with a warning', () => {
  const result = map([MSH('ADT^A01^ADT_A01'), PID, 'PV1|1|I|||||||||||||||||V9']);
  expect(result.event?.eventTime).toBe('2025-07-14T09:30:00Z');
  expect(result.issues).toEqual([expect.objectContaining({ severity: 'warning', reason: 'missing-segment', location: { segment: 'EVN', position: 0 } })]);
});

test('no usable time at all is an error', () => {
  const result = map(['MSH|^~\\&|PAS|RZZ|CB|CB|||ADT^A28^ADT_A05|EDGE-1|P|2.4', PID]);
  expect(result.event).toBeUndefined();
  expect(result.issues.filter((i) => i.severity === 'error').map((i) => i.code)).toEqual(['101']);
});

test('a birth date after the message is impossible (error 102)', () => {
  const result = map([MSH('ADT^A28^ADT_A05'), 'EVN|A28|20250714103000', 'PID|1||RZZ42^^^RZZ^MR||TESTNAME^Alex||20300101|F']);
  expect(result.issues).toEqual([expect.objectContaining({ severity: 'error', code: '102', reason: 'impossible-date', location: { segment: 'PID', position: 3, field: 7 } })]);
});

test('a date of death before the date of birth is an error', () => {
  const result = map([MSH('ADT^A08^ADT_A01'), 'EVN|A08|20250714103000', 'PID|1||RZZ42^^^RZZ^MR||TESTNAME^Alex||19600101|F|||||||||||||||||||||19500101|Y']);
  expect(result.issues.find((i) => i.severity === 'error')).toMatchObject({ code: '102', reason: 'dates-out-of-order', location: { field: 29 } });
});

test('an MDM without document content is an error; with an undecodable PDF, too', () => {
  const base = [MSH('MDM^T02^MDM_T02'), 'EVN|T02|20250714103000', PID, 'PV1|1|I|||||||||||||||||V1', 'TXA|1|DS|AP|||20250714100000||||||DOC-1'];
  expect(map(base).issues).toEqual([expect.objectContaining({ severity: 'error', code: '101', location: { segment: 'OBX', position: 0, field: 5 } })]);
  const broken = map([...base, 'OBX|1|ED|DS||^application^pdf^Base64^not*base64!']);
  expect(broken.issues[0]).toMatchObject({ severity: 'error', code: '102', reason: 'invalid-attachment', location: { segment: 'OBX', field: 5, component: 5 } });
});

test('A40 naming the same patient in MRG-1 and PID-3 is refused', () => {
  const result = map([MSH('ADT^A40^ADT_A39'), 'EVN|A40|20250714103000', PID, 'MRG|RZZ42^^^RZZ^MR']);
  expect(result.event?.merge).toBeUndefined();
  expect(result.issues).toEqual([expect.objectContaining({ severity: 'error', code: '204' })]);
});

test('a second PID group of an A40 is reported, not mapped', () => {
  const result = map([MSH('ADT^A40^ADT_A39'), 'EVN|A40|20250714103000', PID, 'MRG|RZZ41^^^RZZ^MR', 'PID|2||RZZ43^^^RZZ^MR', 'MRG|RZZ44^^^RZZ^MR']);
  expect(result.event?.merge).toMatchObject({ mergedPatientKey: 'RZZ41', survivorPatientKey: 'RZZ42' });
  expect(result.issues.map((i) => [i.reason, i.location.segment, i.location.position])).toEqual([
    ['segment-not-mapped', 'PID', 5],
    ['segment-not-mapped', 'MRG', 6],
  ]);
});

test('"" in a field is not a value: the element is absent and listed as cleared; an absent field is neither', () => {
  const result = map([MSH('ADT^A31^ADT_A05'), 'EVN|A31|20250714103000', 'PID|1||RZZ42^^^RZZ^MR||TESTNAME^Alex||""|F|||||""']);
  const patient = result.resources[0];
  expect(patient).not.toHaveProperty('birthDate');
  expect(patient).not.toHaveProperty('telecom');
  expect(result.cleared.map((c) => c.path)).toEqual(['Patient.birthDate', 'Patient.telecom']);
});
