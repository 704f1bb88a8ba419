/**
 * Development sign-in: the people the demo directory knows, one per role the viewer serves. Each
 * becomes a development token (the same kind `carebridge token` mints) checked by the normal
 * authenticator, so a persona sees exactly what a real user with those claims would. Off when
 * development auth is off (production).
 */
export interface Persona {
  readonly key: string;
  readonly label: string;
  readonly description: string;
  readonly claims: {
    readonly sub: string;
    readonly name: string;
    readonly role: string;
    readonly org: string;
    readonly teams?: readonly string[];
    readonly worker?: string;
  };
}

const COUNCIL = 'https://carebridge.nhs.uk/Id/ons-local-authority-code|E09000004';
const COUNCIL_TEAM = (id: string): string => `https://social-care.demo-council.invalid/carefirst/team|${id}`;

export const PERSONAS: readonly Persona[] = [
  { key: 'gp', label: 'GP', description: 'Dr Anna Hughes, Demo Lane Surgery', claims: { sub: 'demo-gp-hughes', name: 'Dr Anna Hughes', role: 'gp', org: 'Y90001' } },
  { key: 'ward-nurse', label: 'Ward nurse', description: 'Sam Okafor, Ward 7, Demo Hospitals NHS Trust', claims: { sub: 'demo-ward-okafor', name: 'Sam Okafor', role: 'hospital_clinician', org: 'X9Z', teams: ['WARD7'] } },
  { key: 'district-nurse', label: 'District nurse', description: 'Priya Shah, North district nursing team', claims: { sub: 'demo-dn-shah', name: 'Priya Shah', role: 'community_nurse', org: 'X8C', teams: ['DN-NORTH'] } },
  { key: 'social-worker', label: 'Social worker', description: 'Tom Reid, Locality North, Example Borough Council', claims: { sub: 'demo-sw-reid', name: 'Tom Reid', role: 'social_worker', org: COUNCIL, teams: [COUNCIL_TEAM('T-LOC-N')], worker: 'https://social-care.demo-council.invalid/carefirst/worker|W1001' } },
  { key: 'care-coordinator', label: 'Care co-ordinator', description: 'Jo Mills, Hospital Discharge team, Example Borough Council', claims: { sub: 'demo-cc-mills', name: 'Jo Mills', role: 'care_coordinator', org: COUNCIL, teams: [COUNCIL_TEAM('T-HD')], worker: 'https://social-care.demo-council.invalid/carefirst/worker|W1002' } },
  { key: 'paramedic', label: 'Paramedic', description: 'Lee Carter, Demo Ambulance Service', claims: { sub: 'demo-para-carter', name: 'Lee Carter', role: 'urgent_care', org: 'X6A' } },
  { key: 'care-home-nurse', label: 'Care home nurse', description: 'Grace Adeyemi, Oakfield House Care Home', claims: { sub: 'demo-ch-adeyemi', name: 'Grace Adeyemi', role: 'care_home_staff', org: 'https://carebridge.nhs.uk/Id/cqc-location-id|1-000000001' } },
  { key: 'volunteer-broker', label: 'Volunteer broker', description: 'Alex Kim, Exampletown Community Link', claims: { sub: 'demo-vol-kim', name: 'Alex Kim', role: 'voluntary_sector', org: 'https://carebridge.nhs.uk/Id/charity-number|9000001' } },
  { key: 'privacy-officer', label: 'Privacy officer', description: 'Chris Morgan, Information Governance, Demo Hospitals NHS Trust', claims: { sub: 'demo-po-morgan', name: 'Chris Morgan', role: 'privacy_officer', org: 'X9Z' } },
];

export function personaByKey(key: string): Persona | undefined {
  return PERSONAS.find((p) => p.key === key);
}
