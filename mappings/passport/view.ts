/**
 * A red bag passport as people read it (specs/red-bag-passport.md): the document's sections in
 * order, each a list of rows, ready for the printable page and the PDF. Built from the signed FHIR
 * document (mappings/passport/document-view.ts), so a stored passport renders without the record
 * it was built from. Plain text only: renderers escape it.
 */

export const PassportKind = {
  TRANSFER: 'transfer-passport',
  DISCHARGE: 'discharge-passport',
} as const;
export type PassportKind = (typeof PassportKind)[keyof typeof PassportKind];

export interface PassportRow {
  /** What the row is ("Preferred name", "Amlodipine 5 mg tablets"); may be empty for a plain line. */
  readonly label: string;
  /** What it says ("Maggie", "One each morning. Last dose 08:00 today"). */
  readonly value: string;
  /** Where it came from and when ("Oakfield House Care Home, 2026-11-20"), when known. */
  readonly source?: string;
}

export interface PassportSectionView {
  /** Stable code of the section (e.g. 'person', 'reason-for-transfer', 'medications'). */
  readonly code: string;
  readonly title: string;
  readonly rows: readonly PassportRow[];
  /** Shown when there are no rows ("No allergies recorded"). */
  readonly emptyText: string;
  /** True when something in this section was withheld from this reader: never what. */
  readonly withheld: boolean;
}

export interface PassportView {
  readonly kind: PassportKind;
  /** "Hospital transfer passport" or "Discharge passport". */
  readonly title: string;
  /** The person in one line for every page's header: "ELLIS, Margaret · born 12 April 1938 · NHS 999 000 0018". */
  readonly personLine: string;
  /** Passport id and version: what the verification page looks up. */
  readonly passportId: string;
  readonly version: number;
  /** When this version was issued (ISO 8601) and by whom (the care home or hospital, via CareBridge). */
  readonly issuedAt: string;
  readonly issuedBy: string;
  /** The audience this copy was issued for, when it is a variant ("Issued for: care home staff"). */
  readonly audience?: string;
  /** First 16 hex characters of the SHA-256 of the signed document: printed so a paper copy can be matched. */
  readonly fingerprint: string;
  readonly sections: readonly PassportSectionView[];
  /** Set when anything was withheld: the sentence the document says about it. */
  readonly withheldNotice?: string;
}
