import type { CareTeam, Organization, Patient, Resource } from '@medplum/fhirtypes';
import { CARE_HOME_RESIDENCE_EXTENSION, CQC_LOCATION_SYSTEM, ODS_ORGANIZATION_SYSTEM } from '../identifiers';
import { resolveRecipients } from './recipients';

const COUNCIL = 'https://council.example.invalid';
const organisations: Resource[] = [
  { resourceType: 'Organization', id: 'practice', identifier: [{ system: 'https://pas.example.invalid/org', value: 'local' }, { system: ODS_ORGANIZATION_SYSTEM, value: 'Y90001' }] } satisfies Organization,
];
const lookup = (ref: string): Resource | undefined => organisations.find((r) => `${r.resourceType}/${r.id ?? ''}` === ref);

const patient: Patient = {
  resourceType: 'Patient',
  id: 'p1',
  // A reference without an identifier is resolved through the Organization; a Practitioner alone tells nobody.
  generalPractitioner: [{ reference: 'Organization/practice' }, { reference: 'Practitioner/gp' }],
  extension: [{ url: CARE_HOME_RESIDENCE_EXTENSION, valueReference: { reference: 'Organization/home', identifier: { system: CQC_LOCATION_SYSTEM, value: '1-1' } } }],
};

const team = (fields: Partial<CareTeam>): CareTeam => ({ resourceType: 'CareTeam', status: 'active', subject: { reference: 'Patient/p1' }, ...fields });

describe('recipients from the record', () => {
  test('the practice, the care home, the care team and the co-ordinator with their team, each with why', () => {
    const careTeams = [
      team({
        participant: [
          { member: { reference: 'Organization/dn', identifier: { system: ODS_ORGANIZATION_SYSTEM, value: 'RYY01' } } },
          { role: [{ text: 'Care co-ordinator' }], member: { identifier: { system: `${COUNCIL}/worker`, value: 'W1' } }, onBehalfOf: { identifier: { system: `${COUNCIL}/team`, value: 'T1' } } },
        ],
      }),
    ];
    expect(resolveRecipients({ patients: [patient], careTeams, episodesOfCare: [], lookup, at: '2026-11-23T10:00:00Z' })).toEqual([
      { id: `${CQC_LOCATION_SYSTEM}|1-1`, roles: ['care-home'] },
      { id: `${COUNCIL}/team|T1`, roles: ['coordinator-team'] },
      { id: `${COUNCIL}/worker|W1`, roles: ['coordinator'] },
      { id: `${ODS_ORGANIZATION_SYSTEM}|RYY01`, roles: ['care-team'] },
      { id: `${ODS_ORGANIZATION_SYSTEM}|Y90001`, roles: ['gp-practice'] },
    ]);
  });

  test('after a move the practice the person left is not told; the one they joined is', () => {
    const left: Patient = { resourceType: 'Patient', id: 'p1', meta: { lastUpdated: '2026-01-05T09:00:00Z' }, generalPractitioner: [{ identifier: { system: ODS_ORGANIZATION_SYSTEM, value: 'Y90001' } }] };
    const joined: Patient = { resourceType: 'Patient', id: 'p2', meta: { lastUpdated: '2026-11-20T09:00:00Z' }, generalPractitioner: [{ identifier: { system: ODS_ORGANIZATION_SYSTEM, value: 'Y90002' } }] };
    expect(resolveRecipients({ patients: [left, joined], careTeams: [], episodesOfCare: [], lookup, at: '2026-11-23T10:00:00Z' })).toEqual([{ id: `${ODS_ORGANIZATION_SYSTEM}|Y90002`, roles: ['gp-practice'] }]);
  });

  test('an inactive or ended care team, and a participant whose time is over, tell nobody', () => {
    const member = { member: { identifier: { system: ODS_ORGANIZATION_SYSTEM, value: 'RYY01' } } };
    const careTeams = [
      team({ status: 'inactive', participant: [member] }),
      team({ period: { end: '2026-11-01' }, participant: [member] }),
      team({ participant: [{ ...member, period: { end: '2026-10-01T00:00:00Z' } }] }),
    ];
    expect(resolveRecipients({ patients: [], careTeams, episodesOfCare: [], lookup, at: '2026-11-23T10:00:00Z' })).toEqual([]);
  });

  test('an open episode of care names its organisation and team; a finished one does not', () => {
    const episodes = [
      { resourceType: 'EpisodeOfCare' as const, status: 'active' as const, patient: { reference: 'Patient/p1' }, managingOrganization: { identifier: { system: 'https://carebridge.nhs.uk/Id/ons-local-authority-code', value: 'E09000004' } }, team: [{ identifier: { system: `${COUNCIL}/team`, value: 'T2' } }] },
      { resourceType: 'EpisodeOfCare' as const, status: 'finished' as const, patient: { reference: 'Patient/p1' }, managingOrganization: { identifier: { system: ODS_ORGANIZATION_SYSTEM, value: 'RXX' } } },
    ];
    expect(resolveRecipients({ patients: [], careTeams: [], episodesOfCare: episodes, lookup, at: '2026-11-23T10:00:00Z' }).map((r) => r.id)).toEqual([
      'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004',
      `${COUNCIL}/team|T2`,
    ]);
  });
});
