import baselineRoles from './data/roles.json';
import { BASELINE_CATEGORIES, categoriesOf, loadCategoryTable, resourceTypesFor } from './categories';
import { BASELINE_ROLES, loadRoleTable, TableError } from './roles';

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof TableError) return e.problems;
    throw e;
  }
  return [];
};

describe('the role table as data', () => {
  it('loads the baseline with the thirteen roles of the model', () => {
    expect(Object.keys(BASELINE_ROLES.roles).sort()).toEqual(['admin', 'care_coordinator', 'care_home_staff', 'community_nurse', 'gp', 'hospital_clinician', 'mental_health', 'pharmacist', 'privacy_officer', 'social_worker', 'therapist', 'urgent_care', 'voluntary_sector']);
    expect(BASELINE_ROLES.consentRequiredFor).toEqual(['voluntary-sector', 'carer']);
  });

  it('a deployment can add a role (a carer) as data', () => {
    const table = loadRoleTable({
      ...baselineRoles,
      roles: { ...baselineRoles.roles, carer: { who: 'unpaid carer', categories: ['demographics', 'medications'], maxConfidentiality: 'N', sensitivities: [], relationship: 'required', selfClaim: false, breakGlass: false, permissionToView: false, recipientClass: 'carer' } },
    });
    expect(table.roles.carer?.categories).toEqual(['demographics', 'medications']);
    expect(table.roles.carer?.redact).toEqual({});
  });

  it('names every problem of a bad table by path, in one pass', () => {
    const bad = {
      consentRequiredFor: ['voluntary'],
      roles: {
        gp: { ...baselineRoles.roles.gp, sensitivities: ['hiv', 'hiv2'], maxConfidentiality: 'X', breakGlass: 'yes', colour: 'blue' },
        'Bad Name': { ...baselineRoles.roles.admin, redact: { Patient: { keep: 'name' }, patient: 'withhold' } },
      },
    };
    expect(problemsOf(() => loadRoleTable(bad, 'deploy/roles.json'))).toEqual([
      'roles.gp.maxConfidentiality: "X" is not one of N, R, V',
      'roles.gp.sensitivities[1]: "hiv2" is not one of mental-health, sexual-health, substance-misuse, hiv, safeguarding, domestic-abuse, gender-identity, key-safe',
      'roles.gp.breakGlass: must be true or false',
      'roles.gp.colour: unknown field (expected one of who, categories, limits, maxConfidentiality, sensitivities, relationship, relationshipKinds, selfClaim, breakGlass, permissionToView, recipientClass, recordsConsent, redact)',
      'roles.Bad Name: role names are lower_snake_case',
      'roles.Bad Name.redact.Patient.keep: must be a list of strings',
      'roles.Bad Name.redact.patient: is not a FHIR resource type name',
      'consentRequiredFor[0]: "voluntary" is not one of health, social-care, care-provider, voluntary-sector, carer, administration, governance',
    ]);
    expect(() => loadRoleTable(bad, 'deploy/roles.json')).toThrow(/^deploy\/roles.json: 8 problems:/);
  });

  it('refuses a table with no roles', () => {
    expect(problemsOf(() => loadRoleTable({ roles: {}, consentRequiredFor: [] }))).toEqual(['roles: names no role']);
    expect(problemsOf(() => loadRoleTable(null))).toEqual(['roles: is missing', 'consentRequiredFor: is missing']);
  });
});

describe('data categories as FHIR', () => {
  it('a care-package CarePlan is social care record; any other CarePlan is a plan', () => {
    expect(categoriesOf({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: {}, category: [{ coding: [{ system: 'https://carebridge.nhs.uk/fhir/CodeSystem/care-plan-kind', code: 'care-package' }] }] })).toEqual(['social_care']);
    expect(categoriesOf({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: {} })).toEqual(['plans']);
  });

  it('a Consent of scope adr is a plan; of scope patient-privacy, the person\'s privacy decisions', () => {
    const consent = (code: string) => ({ resourceType: 'Consent' as const, status: 'active' as const, scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code }] }, category: [] });
    expect(categoriesOf(consent('adr'))).toEqual(['plans']);
    expect(categoriesOf(consent('patient-privacy'))).toEqual(['privacy']);
  });

  it('an unknown resource type is in no category (deny by default)', () => {
    expect(categoriesOf({ resourceType: 'Provenance', target: [], recorded: '2026-01-01', agent: [] })).toEqual([]);
  });

  it('resourceTypesFor gives the SQL scope of categories, content-dependent types included', () => {
    expect(resourceTypesFor(['demographics', 'care_team'])).toEqual(['CareTeam', 'EpisodeOfCare', 'Patient', 'PractitionerRole', 'RelatedPerson']);
    expect(resourceTypesFor(['passport'])).toEqual(['Bundle', 'Composition', 'DocumentReference']);
    expect(resourceTypesFor([])).toEqual([]);
  });

  it('names the problems of a bad category table', () => {
    const bad = { byType: { CarePlan: { default: ['plan'], rules: [{ element: 'category', system: 's', codes: 'x', categories: ['plans'] }] } } };
    expect(problemsOf(() => loadCategoryTable(bad))).toEqual([
      'byType.CarePlan.rules[0]: codes: must be a list of strings',
      'byType.CarePlan.rules[0]: source: is missing',
      'byType.CarePlan.default[0]: "plan" is not one of demographics, care_team, alerts, problems, allergies, medications, encounters, plans, social_care, documents, observations, equipment, passport, needs, privacy, directory',
    ]);
    expect(Object.keys(BASELINE_CATEGORIES.byType)).toContain('Patient');
  });
});
