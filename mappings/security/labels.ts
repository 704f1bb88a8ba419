import type { Coding, Meta } from '@medplum/fhirtypes';

/**
 * The security-label vocabulary every mapping and the access decisions share
 * (specs/access-and-consent.md, "Sensitive information"). Labels go in `meta.security`:
 * one confidentiality code, plus a sensitivity code for each category that applies.
 *
 * The store indexes each label as `system|code` (AccessScope.withheldLabels), so these systems and
 * codes are a contract: change them only with a migration of stored resources.
 */

export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
/** HL7 v3 ActCode holds the sensitivity codes HL7 defines (ActInformationSensitivityPolicy). */
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
/** Sensitivities HL7 has no code for (safeguarding, key-safe codes, gender identity). */
export const CAREBRIDGE_SENSITIVITY_SYSTEM = 'https://carebridge.nhs.uk/fhir/CodeSystem/sensitivity';
/** GP Connect's "not for the patient's own view": kept as the source sent it; not a restriction on clinicians. */
export const NOPAT_CODING: Coding = { system: 'http://hl7.org/fhir/v3/ActCode', code: 'NOPAT', display: 'no disclosure to patient, family or caregivers without attending provider\'s authorization' };

export const Confidentiality = { NORMAL: 'N', RESTRICTED: 'R', VERY_RESTRICTED: 'V' } as const;
export type Confidentiality = (typeof Confidentiality)[keyof typeof Confidentiality];

export const Sensitivity = {
  MENTAL_HEALTH: 'mental-health',
  SEXUAL_HEALTH: 'sexual-health',
  SUBSTANCE_MISUSE: 'substance-misuse',
  HIV: 'hiv',
  SAFEGUARDING: 'safeguarding',
  DOMESTIC_ABUSE: 'domestic-abuse',
  GENDER_IDENTITY: 'gender-identity',
  KEY_SAFE: 'key-safe',
} as const;
export type Sensitivity = (typeof Sensitivity)[keyof typeof Sensitivity];

const CONFIDENTIALITY_DISPLAY: Record<Confidentiality, string> = { N: 'normal', R: 'restricted', V: 'very restricted' };

/** Each sensitivity as a Coding: HL7's own code where one exists, ours otherwise. */
export const SENSITIVITY_CODING: Readonly<Record<Sensitivity, Readonly<Coding>>> = {
  'mental-health': { system: ACT_CODE_SYSTEM, code: 'PSY', display: 'psychiatry disorder information sensitivity' },
  'sexual-health': { system: ACT_CODE_SYSTEM, code: 'SEX', display: 'sexuality and reproductive health information sensitivity' },
  'substance-misuse': { system: ACT_CODE_SYSTEM, code: 'ETH', display: 'substance abuse information sensitivity' },
  hiv: { system: ACT_CODE_SYSTEM, code: 'HIV', display: 'HIV/AIDS information sensitivity' },
  'domestic-abuse': { system: ACT_CODE_SYSTEM, code: 'SDV', display: 'sexual assault, abuse, or domestic violence information sensitivity' },
  safeguarding: { system: CAREBRIDGE_SENSITIVITY_SYSTEM, code: 'safeguarding', display: 'safeguarding information sensitivity' },
  'gender-identity': { system: CAREBRIDGE_SENSITIVITY_SYSTEM, code: 'gender-identity', display: 'gender identity information sensitivity' },
  'key-safe': { system: CAREBRIDGE_SENSITIVITY_SYSTEM, code: 'key-safe', display: 'key-safe code or access details' },
};

/** The confidentiality a sensitivity implies at least: key-safe codes and safeguarding are very restricted. */
export const SENSITIVITY_MINIMUM_CONFIDENTIALITY: Readonly<Record<Sensitivity, Confidentiality>> = {
  'mental-health': 'R',
  'sexual-health': 'R',
  'substance-misuse': 'R',
  hiv: 'R',
  'domestic-abuse': 'V',
  safeguarding: 'V',
  'gender-identity': 'R',
  'key-safe': 'V',
};

const RANK: Record<Confidentiality, number> = { N: 0, R: 1, V: 2 };

export function confidentialityCoding(level: Confidentiality): Coding {
  return { system: CONFIDENTIALITY_SYSTEM, code: level, display: CONFIDENTIALITY_DISPLAY[level] };
}

/** The stronger of two confidentiality levels. */
export function stricter(a: Confidentiality, b: Confidentiality): Confidentiality {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The `meta.security` list for a resource: one confidentiality code (at least what its
 * sensitivities imply) and the sensitivities, in a stable order, plus any labels the source sent
 * that are not ours (NOPAT, for instance) kept as they came.
 */
export function securityLabels(sensitivities: readonly Sensitivity[], confidentiality: Confidentiality = 'N', keep: readonly Coding[] = []): Coding[] {
  let level = confidentiality;
  for (const s of sensitivities) level = stricter(level, SENSITIVITY_MINIMUM_CONFIDENTIALITY[s]);
  const unique = [...new Set(sensitivities)].sort();
  const ours = new Set([CONFIDENTIALITY_SYSTEM, CAREBRIDGE_SENSITIVITY_SYSTEM]);
  const kept = keep.filter((c) => !ours.has(c.system ?? '') && !(c.system === ACT_CODE_SYSTEM && unique.some((s) => SENSITIVITY_CODING[s].code === c.code)));
  return [confidentialityCoding(level), ...unique.map((s) => ({ ...SENSITIVITY_CODING[s] })), ...kept];
}

/** Meta with labels; `source` is the sending system's URI. */
export function labelledMeta(source: string, sensitivities: readonly Sensitivity[], confidentiality: Confidentiality = 'N'): Meta {
  return { source, security: securityLabels(sensitivities, confidentiality) };
}

/** The store's index key for a label: `system|code`. */
export function labelKey(coding: Pick<Coding, 'system' | 'code'>): string {
  return `${coding.system ?? ''}|${coding.code ?? ''}`;
}

/** Reads the confidentiality and sensitivities back from `meta.security` (unknown codes ignored). */
export function readLabels(meta: Meta | undefined): { confidentiality: Confidentiality; sensitivities: Sensitivity[] } {
  let confidentiality: Confidentiality = 'N';
  const sensitivities: Sensitivity[] = [];
  for (const c of meta?.security ?? []) {
    if (c.system === CONFIDENTIALITY_SYSTEM && (c.code === 'N' || c.code === 'R' || c.code === 'V')) confidentiality = stricter(confidentiality, c.code);
    for (const [s, coding] of Object.entries(SENSITIVITY_CODING) as [Sensitivity, Coding][]) {
      if (coding.system === c.system && coding.code === c.code) sensitivities.push(s);
    }
  }
  return { confidentiality, sensitivities };
}
