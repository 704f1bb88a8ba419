import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoDirectory, DirectoryError, identityFromClaims, loadDirectory, parseDirectory, type Directory } from '../../gateway/auth';

/**
 * The directory as data: identity-provider claims (NHS CIS2 national RBAC role codes, a council's
 * directory groups) → CareBridge role, organisation and teams; systems; and a broken file reported
 * with every problem and where it is.
 */

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const ONS = 'https://carebridge.nhs.uk/Id/ons-local-authority-code';
const COUNCIL = `${ONS}|E09000004`;
const COUNCIL_TEAM = 'https://social-care.demo-council.invalid/carefirst/team';
const CARE_HOME = 'https://carebridge.nhs.uk/Id/cqc-location-id|1-000000001';

const directory = demoDirectory();
const person = (claims: Record<string, unknown>): ReturnType<typeof identityFromClaims> => identityFromClaims({ sub: 'u-1', ...claims }, directory);

/** [role, organisation, teams] of an accepted token, or the refusal. */
function outcome(claims: Record<string, unknown>, dir: Directory = directory): [string | undefined, string | undefined, readonly string[]] | string {
  const o = identityFromClaims({ sub: 'u-1', ...claims }, dir);
  if (!o.ok) return o.reason;
  if (o.identity.kind !== 'person') return `system ${o.identity.system.name}`;
  return [o.identity.requester.role, o.identity.requester.organisation, o.identity.requester.teams];
}

describe('claims → role, organisation and teams through the demo directory', () => {
  test.each([
    ['CIS2 R8000 (clinical practitioner) at a GP practice', { role: 'R8000', org: 'Y90001' }, ['gp', `${ODS}|Y90001`, []]],
    ['CIS2 R8000 at an acute trust', { role: 'R8000', org: 'X9Z' }, ['hospital_clinician', `${ODS}|X9Z`, []]],
    ['CIS2 R8000 at a community trust', { role: 'R8000', org: 'X8C' }, ['community_nurse', `${ODS}|X8C`, []]],
    ['CIS2 R8000 at a mental health trust', { role: 'R8000', org: 'X7M' }, ['mental_health', `${ODS}|X7M`, []]],
    ['CIS2 R8000 at an ambulance trust', { role: 'R8000', org: 'X6A' }, ['urgent_care', `${ODS}|X6A`, []]],
    ['CIS2 R8001 (nurse) at a GP practice: practice nurse', { role: 'R8001', org: 'Y90001' }, ['gp', `${ODS}|Y90001`, []]],
    ['CIS2 R8001 at a care home', { role: 'R8001', org: CARE_HOME }, ['care_home_staff', CARE_HOME, []]],
    ['CIS2 R8003 (health professional) at an acute trust', { role: 'R8003', org: 'X9Z' }, ['therapist', `${ODS}|X9Z`, []]],
    ['CIS2 R8010 (clerical) at a GP practice', { role: 'R8010', org: 'Y90001' }, ['admin', `${ODS}|Y90001`, []]],
    ['CIS2 R0001 (privacy officer) anywhere', { role: 'R0001', org: 'X9Z' }, ['privacy_officer', `${ODS}|X9Z`, []]],
    ['CIS2 R5105 (Caldicott guardian)', { role: 'R5105', org: COUNCIL }, ['privacy_officer', COUNCIL, []]],
    ['a full CIS2 role_code S8000:G8000:R8000', { role: 'S8000:G8000:R8000', org: 'Y90001' }, ['gp', `${ODS}|Y90001`, []]],
    ['a council group gives the role and its team', { groups: ['ASC-Team-Hospital-Discharge'], org: COUNCIL }, ['social_worker', COUNCIL, [`${COUNCIL_TEAM}|T-HD`]]],
    ['two groups with the same role give both teams', { groups: ['ASC-Team-Hospital-Discharge', 'ASC-Team-Locality-North', 'Staff-Canteen'], org: COUNCIL }, ['social_worker', COUNCIL, [`${COUNCIL_TEAM}|T-HD`, `${COUNCIL_TEAM}|T-LOC-N`]]],
    ['a care home group', { groups: ['CareHome-Staff'], org: CARE_HOME }, ['care_home_staff', CARE_HOME, []]],
    ['a CareBridge role named directly (acceptCareBridgeRoles)', { role: 'pharmacist', org: 'X9Z' }, ['pharmacist', `${ODS}|X9Z`, []]],
    ['a bare team code of the organisation', { role: 'social_worker', org: COUNCIL, teams: ['T-OT'] }, ['social_worker', COUNCIL, [`${COUNCIL_TEAM}|T-OT`]]],
    ['a qualified team, as a single string', { role: 'hospital_clinician', org: 'X9Z', teams: 'https://pas.demo-trust.invalid/hl7v2/team|WARD7' }, ['hospital_clinician', `${ODS}|X9Z`, ['https://pas.demo-trust.invalid/hl7v2/team|WARD7']]],
  ])('%s', (_name, claims, expected) => {
    expect(outcome(claims)).toEqual(expected);
  });

  test.each([
    ['an unknown CIS2 code', { role: 'R9999', org: 'Y90001' }, "role 'R9999' has no CareBridge role in the directory for organisations of kind 'gp-practice'"],
    ['a healthcare student (R8004), deliberately unmapped', { role: 'R8004', org: 'X9Z' }, "role 'R8004' has no CareBridge role in the directory for organisations of kind 'acute-trust'"],
    ['a code mapped only at other kinds of organisation', { role: 'R8003', org: 'Y90001' }, "role 'R8003' has no CareBridge role in the directory for organisations of kind 'gp-practice'"],
    ["a council's group used at another organisation", { groups: ['ASC-Team-Hospital-Discharge'], org: 'X9Z' }, "role 'ASC-Team-Hospital-Discharge' has no CareBridge role in the directory for organisations of kind 'acute-trust'"],
    ['groups that map to different roles', { groups: ['ASC-Team-Hospital-Discharge', 'ASC-Business-Support'], org: COUNCIL }, "the token's role and groups map to more than one role (admin, social_worker); the directory must make them unambiguous"],
    ['no role at all', { org: 'Y90001' }, "the token names no role ('role' or 'groups' claim)"],
    ['no organisation', { role: 'gp' }, "the token names no organisation ('org' claim)"],
    ['an organisation not in the directory', { role: 'gp', org: 'A99999' }, `organisation '${ODS}|A99999' is not in the directory`],
    ['a team not in the directory', { role: 'gp', org: 'Y90001', teams: ['T-NOWHERE'] }, "team 'T-NOWHERE' is not in the directory"],
    ['an unqualified worker id', { role: 'social_worker', org: COUNCIL, worker: 'W123' }, "the 'worker' claim must be a qualified id 'system|value'"],
    ['break-glass asked for in the token', { role: 'gp', org: 'Y90001', purpose: 'BTG' }, 'break-glass is not granted by a token: use the break-glass operation, which records a reason'],
    ['an unknown purpose of use', { role: 'gp', org: 'Y90001', purpose: 'RESEARCH' }, "purpose of use 'RESEARCH' is not one of TREAT, HOPERAT, PATADMIN"],
    ['a role claim that is not a string', { role: ['gp'], org: 'Y90001' }, "the 'role' claim must be a non-empty string"],
    ['a system token carrying a person claim', { system: 'demo-trust-pas', role: 'gp' }, "a system token may not carry the person claim 'role'"],
    ['a system not in the directory', { system: 'rogue-pas' }, "system 'rogue-pas' is not in the directory"],
  ])('refused: %s', (_name, claims, reason) => {
    expect(outcome(claims)).toBe(reason);
  });

  test('a person gets the full Requester: user, name, role, organisation, teams, worker, purpose (TREAT by default)', () => {
    const worker = 'https://social-care.demo-council.invalid/carefirst/worker|W123';
    const o = person({ name: 'Sam Example', groups: ['ASC-Team-Hospital-Discharge'], org: COUNCIL, worker });
    expect(o).toEqual({
      ok: true,
      identity: expect.objectContaining({
        kind: 'person',
        requester: { userId: 'u-1', displayName: 'Sam Example', role: 'social_worker', organisation: COUNCIL, teams: [`${COUNCIL_TEAM}|T-HD`], workerId: worker, purposeOfUse: 'TREAT' },
      }),
    });
    const admin = person({ role: 'R8010', org: 'Y90001', purpose: 'PATADMIN' });
    expect(admin.ok && admin.identity.requester.purposeOfUse).toBe('PATADMIN');
  });

  test('an NHS CIS2 ID token: the selected role among nhsid_nrbac_roles gives role code and organisation', () => {
    const cis2 = {
      selected_roleid: '555021935107',
      nhsid_nrbac_roles: [
        { person_roleid: '555021934106', org_code: 'X9Z', role_name: '"Admin":"Clerical":"Clerical Access Role"', role_code: 'S8000:G8001:R8010' },
        { person_roleid: '555021935107', org_code: 'Y90001', role_name: '"Clinical":"Clinical Provision":"Clinical Practitioner Access Role"', role_code: 'S8000:G8000:R8000' },
      ],
    };
    expect(outcome(cis2)).toEqual(['gp', `${ODS}|Y90001`, []]);
    expect(outcome({ ...cis2, selected_roleid: 'not-mine' })).toBe("the selected role is not among the token's 'nhsid_nrbac_roles'");
  });

  test('a system token: the directory entry, acting for its organisation with purpose HOPERAT', () => {
    const o = identityFromClaims({ sub: 'system:demo-trust-pas', system: 'demo-trust-pas' }, directory);
    expect(o).toEqual({
      ok: true,
      identity: {
        kind: 'system',
        system: { name: 'demo-trust-pas', displayName: 'Demo Hospitals PAS (HL7v2)', sourceUri: 'https://pas.demo-trust.invalid/hl7v2', organisation: `${ODS}|X9Z`, intake: ['hl7v2', 'subscription'], hl7Senders: ['RZZ|PAS'] },
        requester: { userId: 'system:demo-trust-pas', displayName: 'Demo Hospitals PAS (HL7v2)', system: 'demo-trust-pas', organisation: `${ODS}|X9Z`, purposeOfUse: 'HOPERAT' },
      },
    });
  });

  test('with acceptCareBridgeRoles off, only mapped codes count: a CareBridge role named directly is refused', () => {
    const strict = parseDirectory({ organisations: [{ id: `${ODS}|Y90001`, name: 'Practice', kind: 'gp-practice' }], roleMappings: [{ claim: 'role', code: 'R8000', role: 'gp' }] }, 'strict.json');
    expect(outcome({ role: 'R8000', org: 'Y90001' }, strict)).toEqual(['gp', `${ODS}|Y90001`, []]);
    expect(outcome({ role: 'privacy_officer', org: 'Y90001' }, strict)).toBe("role 'privacy_officer' has no CareBridge role in the directory for organisations of kind 'gp-practice'");
  });
});

describe('directory files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cb-directory-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('the demo directory names every organisation with a kind and phone, and its systems', () => {
    expect(directory.organisations.map((o) => [o.id.split('|')[1], o.kind])).toEqual([
      ['Y90001', 'gp-practice'], ['X9Z', 'acute-trust'], ['X8C', 'community-trust'], ['X7M', 'mental-health-trust'], ['X6A', 'ambulance-trust'],
      ['E09000004', 'council'], ['1-000000001', 'care-home'], ['9000001', 'voluntary'],
    ]);
    expect(directory.organisations.every((o) => o.phone !== undefined)).toBe(true);
    expect(directory.systems.map((s) => [s.name, s.intake])).toEqual([
      ['demo-trust-pas', ['hl7v2', 'subscription']], ['demo-council-carefirst', ['social-care-extract']], ['demo-gp-system', ['gp-connect', 'fhir-bundle']], ['demo-care-home-records', ['fhir-bundle']],
    ]);
    expect(directory.team(`${COUNCIL_TEAM}|T-HD`)?.organisation.id).toBe(COUNCIL);
  });

  test('a broken file is refused with every problem, each with where it is', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, JSON.stringify({
      organisations: [
        { id: 'Y90001', name: 'No system', kind: 'gp-practice' },
        { id: `${ODS}|X1`, name: 'Odd kind', kind: 'hospital' },
        { id: `${ODS}|X2`, kind: 'acute-trust', teams: [{ id: 'team-without-system', name: 'Ward' }] },
        { id: `${ODS}|X3`, name: 'Twice', kind: 'acute-trust' },
        { id: `${ODS}|X3`, name: 'Twice again', kind: 'acute-trust' },
      ],
      roleMappings: [
        { claim: 'role', code: 'R8000', role: 'doctor' },
        { claim: 'group', code: 'G1', teams: ['x|nowhere'] },
        { claim: 'badge', code: 'B1', role: 'gp' },
        { claim: 'role', code: 'R8001', organisations: ['A00000'], role: 'gp' },
      ],
      systems: [{ name: 'pas one', sourceUri: 'not a uri', intake: ['fax'] }, { name: 'pas-2', sourceUri: 'urn:pas:2', intake: ['hl7v2'] }, { name: 'pas-3', sourceUri: 'urn:pas:3', intake: ['hl7v2'], hl7Senders: ['RZZ'] }, { name: 'pas-4', sourceUri: 'urn:pas:4', intake: ['hl7v2'], hl7Senders: ['RYY|PAS'] }, { name: 'pas-5', sourceUri: 'urn:pas:5', intake: ['hl7v2'], hl7Senders: ['RYY|PAS'] }],
      extras: true,
    }));
    let error: unknown;
    try {
      loadDirectory(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DirectoryError);
    expect((error as DirectoryError).problems).toEqual([
      "organisations[0].id: 'Y90001' must be a qualified id 'system|value'",
      "organisations[1].kind: 'hospital' is not one of gp-practice, acute-trust, community-trust, mental-health-trust, ambulance-trust, council, care-home, voluntary",
      'organisations[2].name: is required',
      "organisations[2].teams[0].id: 'team-without-system' must be a qualified id 'system|value'",
      `organisations: '${ODS}|X3' is listed twice`,
      "roleMappings[0].role: 'doctor' is not a CareBridge role (gp, hospital_clinician, community_nurse, mental_health, social_worker, care_coordinator, therapist, pharmacist, urgent_care, care_home_staff, voluntary_sector, admin, privacy_officer)",
      "roleMappings[1].teams: 'x|nowhere' is not a team in the directory",
      "roleMappings[2].claim: 'badge' is not one of role, group",
      `roleMappings[3].organisations: '${ODS}|A00000' is not an organisation in the directory`,
      "systems[0].name: 'pas one' may hold only letters, digits, '.', '_' and '-'",
      "systems[0].sourceUri: 'not a uri' must be an http(s) URL or a urn",
      "systems[0].intake: 'fax' is not one of hl7v2, social-care-extract, gp-connect, fhir-bundle, subscription",
      'systems[1].hl7Senders: a system with hl7v2 intake must name the senders (MSH-4|MSH-3) it may send as',
      "systems[2].hl7Senders: 'RZZ' must be written 'FACILITY|APPLICATION' (MSH-4|MSH-3)",
      "systems: HL7 sender 'RYY|PAS' is declared by both 'pas-4' and 'pas-5'",
      'extras: unknown field',
    ]);
    expect((error as DirectoryError).message).toContain(`The directory ${file} is not valid:`);
  });

  test('a file that is not JSON, or missing, names the file and the reason', () => {
    const file = join(dir, 'not-json.json');
    writeFileSync(file, '{ "organisations": [ ');
    expect(() => loadDirectory(file)).toThrow(new RegExp(`^The directory ${file} is not valid:\\n  - is not JSON: `));
    expect(() => loadDirectory(join(dir, 'missing.json'))).toThrow(`The directory ${join(dir, 'missing.json')} is not valid:\n  - cannot be read: ENOENT`);
  });
});
