import type { SqlClient } from '../store/engine';

/**
 * Which organisation holds the data each source system sends (meta.source → organisation as
 * `system|value`). The person's objection to sharing keeps their record within "the organisation
 * that holds the data" (specs/access-and-consent.md); this is how the rules know which that is.
 * Every intake registers its source when it first accepts data from it.
 */
export const SourceKind = { HL7V2: 'hl7v2', SOCIAL_CARE: 'social-care', GP_CONNECT: 'gp-connect', FHIR: 'fhir', CAREBRIDGE: 'carebridge' } as const;
export type SourceKind = (typeof SourceKind)[keyof typeof SourceKind];

export interface SourceSystem {
  readonly uri: string;
  /** `system|value`, e.g. `https://fhir.nhs.uk/Id/ods-organization-code|RX1`. */
  readonly organisation: string;
  readonly name?: string;
  readonly kind: SourceKind;
}

export async function registerSourceSystem(db: SqlClient, source: SourceSystem): Promise<void> {
  await db.query(
    `INSERT INTO source_system (uri, organisation, name, kind) VALUES ($1, $2, $3, $4)
     ON CONFLICT (uri) DO UPDATE SET organisation = EXCLUDED.organisation, name = COALESCE(EXCLUDED.name, source_system.name), kind = EXCLUDED.kind, updated_at = now()
     WHERE source_system.organisation IS DISTINCT FROM EXCLUDED.organisation OR source_system.name IS DISTINCT FROM COALESCE(EXCLUDED.name, source_system.name)`,
    [source.uri, source.organisation, source.name ?? null, source.kind],
  );
}

/** meta.source → organisation, for the access rules (consent/ AccessInput.sourceOrganisations). */
export async function sourceOrganisations(db: SqlClient): Promise<Record<string, string>> {
  const rows = await db.query<{ uri: string; organisation: string }>('SELECT uri, organisation FROM source_system');
  return Object.fromEntries(rows.rows.map((r) => [r.uri, r.organisation]));
}
