/**
 * Synthetic ADT^A01 admissions for the HL7v2 crash test: message n admits its own patient
 * (MRN CRZ<n>) to its own visit (PV1-19 CV<n>) under its own control id (MSH-10 CRASH-<n>).
 * Invented names, no NHS numbers: nothing here is or resembles real patient data.
 * Enhanced mode (MSH-15 AL, MSH-16 NE), so the accept ACK is CA once the message is in the inbox.
 */
const WARDS = ['WARD1', 'WARD2', 'WARD3', 'WARD4'] as const;
const CONSULTANTS = ['C1000001^Consultant^Carys^^^Dr', 'C1000002^Consultant^Colm^^^Dr', 'C1000003^Consultant^Cleo^^^Dr'] as const;

export const CRASH_SENDER = { facility: 'RZZ', application: 'CRASHPAS' } as const;

export const crashControlId = (n: number): string => `CRASH-${String(n).padStart(5, '0')}`;
export const crashVisitNumber = (n: number): string => `CV${String(n).padStart(6, '0')}`;
export const crashMrn = (n: number): string => `CRZ${String(n).padStart(7, '0')}`;

/** HL7 TS (YYYYMMDDHHMMSS) for minute `m` after 2025-03-01 00:00 UTC, spread over days so times differ. */
function hl7Time(minutes: number): string {
  const t = new Date(Date.UTC(2025, 2, 1) + minutes * 60_000).toISOString();
  return t.slice(0, 19).replace(/[-T:]/g, '');
}

export function crashAdmission(n: number): Buffer {
  const eventTime = hl7Time(n * 7);
  const messageTime = hl7Time(n * 7 + 3);
  const ward = WARDS[n % WARDS.length] ?? 'WARD1';
  const consultant = CONSULTANTS[n % CONSULTANTS.length] ?? '';
  const sex = n % 2 === 0 ? 'F' : 'M';
  const birthDate = `19${String(30 + (n % 60)).padStart(2, '0')}0${String(1 + (n % 9))}1${String(n % 10)}`;
  const segments = [
    `MSH|^~\\&|${CRASH_SENDER.application}|${CRASH_SENDER.facility}|CAREBRIDGE|CAREBRIDGE|${messageTime}||ADT^A01^ADT_A01|${crashControlId(n)}|P|2.4|||AL|NE`,
    `EVN|A01|${messageTime}||||${eventTime}`,
    `PID|1||${crashMrn(n)}^^^RZZ^MR||TESTPERSON${String(n)}^Alex^^^Mx^^L||${birthDate}|${sex}|||${String(1 + (n % 90))} Example Road^Testtown^^^ZZ1 ${String(n % 10)}AA^GBR^H`,
    `PV1|1|I|${ward}^BAY${String(1 + (n % 6))}^BED${String(1 + (n % 4))}^RZZ|21|||${consultant}^^^RZZ|||300||||19|||||${crashVisitNumber(n)}^^^RZZ^VN|||||||||||||||||||||||||${eventTime}`,
  ];
  return Buffer.from(`${segments.join('\r')}\r`, 'latin1');
}
