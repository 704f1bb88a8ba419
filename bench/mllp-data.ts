import { nhsCheckDigit } from '../mappings/identity/nhs-number';

/**
 * Synthetic ADT traffic for the MLLP benchmark: each patient has one inpatient visit told in three
 * messages (A01 admission, A02 transfer, A03 discharge). Patients are dealt to connections (a
 * patient's messages always travel on one connection, as a PAS sends them), and each connection
 * sends its patients in blocks of ten: the block's admissions, then its transfers, then its
 * discharges, so one patient's messages are interleaved with others' as on a real feed.
 * Invented names; NHS numbers from the 999 range with valid check digits; half of them verified
 * by the sender (PID-32 01), so identity resolution links and reviews as it would in production.
 */
export const MLLP_BENCH_SENDER = { facility: 'RZZ', application: 'BENCHPAS' } as const;
export const MESSAGES_PER_PATIENT = 3;
const BLOCK = 10;

export interface MllpBenchTraffic {
  /** One list of messages per connection, in sending order. */
  readonly perConnection: Buffer[][];
  readonly patients: number;
  readonly messages: number;
}

function hl7Time(minutes: number): string {
  return new Date(Date.UTC(2025, 0, 1) + minutes * 60_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

/** The n-th valid 999-range NHS number (skipping the prefixes whose check digit would be 10). */
function nhsNumber(n: number): string {
  for (let k = n * 2; ; k++) {
    const nine = `999${String(k).padStart(6, '0')}`;
    const check = nhsCheckDigit(nine);
    if (check !== undefined) return `${nine}${String(check)}`;
  }
}

function message(patient: number, step: 0 | 1 | 2, serial: number): Buffer {
  const trigger = (['A01', 'A02', 'A03'] as const)[step];
  const admitted = patient * 11;
  const eventTime = hl7Time(admitted + step * 240);
  const messageTime = hl7Time(admitted + step * 240 + 1);
  const mrn = `BZ${String(patient).padStart(8, '0')}`;
  const visit = `BV${String(patient).padStart(8, '0')}`;
  const birthDate = `19${String(30 + (patient % 60)).padStart(2, '0')}0${String(1 + (patient % 9))}1${String(patient % 10)}`;
  const verified = patient % 2 === 0 ? '01' : '';
  const ward = step === 0 ? `WARD${String(1 + (patient % 8))}^BAY${String(1 + (patient % 6))}^BED${String(1 + (patient % 4))}^RZZ` : `WARD${String(9 + (patient % 4))}^^BED${String(1 + (patient % 5))}^RZZ`;
  const prior = step === 1 ? `WARD${String(1 + (patient % 8))}^BAY${String(1 + (patient % 6))}^BED${String(1 + (patient % 4))}^RZZ` : '';
  const discharge = step === 2 ? `|${eventTime}` : '';
  const segments = [
    `MSH|^~\\&|${MLLP_BENCH_SENDER.application}|${MLLP_BENCH_SENDER.facility}|CAREBRIDGE|CAREBRIDGE|${messageTime}||ADT^${trigger}^ADT_${trigger}|BENCH-${String(serial).padStart(8, '0')}|P|2.4`,
    `EVN|${trigger}|${messageTime}||||${eventTime}`,
    `PID|1||${mrn}^^^RZZ^MR~${nhsNumber(patient)}^^^NHS^NH||BENCHPERSON${String(patient)}^Sam^^^Mx^^L||${birthDate}|${patient % 2 === 0 ? 'F' : 'M'}|||${String(1 + (patient % 90))} Example Road^Testtown^^^ZZ1 ${String(patient % 10)}AA^GBR^H||||||||||||||||||||${verified}`,
    `PV1|1|I|${ward}|21||${prior}|C${String(1_000_000 + (patient % 40))}^Consultant^Casey^^^Dr^^^RZZ||||||||||||${visit}^^^RZZ^VN|||||||||||||||||${step === 2 ? '1|54' : '|'}|||||||${hl7Time(admitted)}${discharge}`,
  ];
  if (step === 2) segments.push(`DG1|1||J18.9^Pneumonia, unspecified^I10||${eventTime}|F`);
  return Buffer.from(`${segments.join('\r')}\r`, 'latin1');
}

export function mllpBenchTraffic(patients: number, connections: number): MllpBenchTraffic {
  const perConnection: Buffer[][] = Array.from({ length: connections }, () => []);
  const byConnection: number[][] = Array.from({ length: connections }, () => []);
  for (let p = 0; p < patients; p++) byConnection[p % connections]?.push(p);
  let serial = 0;
  byConnection.forEach((list, c) => {
    for (let start = 0; start < list.length; start += BLOCK) {
      const block = list.slice(start, start + BLOCK);
      for (const step of [0, 1, 2] as const) for (const p of block) perConnection[c]?.push(message(p, step, serial++));
    }
  });
  return { perConnection, patients, messages: serial };
}
