import { ACCESS_CHANGE_MIGRATION } from '../access/access-change-schema';
import { AUDIT_EVENT_JSON_MIGRATION, AUDIT_SCHEMA_SQL } from '../audit/audit-schema';
import { NOTIFY_ACKNOWLEDGER_NAME_MIGRATION, NOTIFY_HANDSHAKE_MIGRATION, NOTIFY_MIGRATION, NOTIFY_WITHHELD_MIGRATION } from '../notify/schema';
import { PASSPORT_MIGRATION } from '../passport/schema';
import type { SqlEngine } from './engine';
import { SOCIAL_CARE_MIGRATION_SQL } from '../social-care/schema';

/**
 * Versioned schema migrations, applied in order at start. Each runs in its own transaction under
 * a PostgreSQL advisory lock, so two processes starting together apply each one exactly once, and
 * running them again is a no-op. Never edit a released migration: add the next one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'resources, history, search indexes, inbox',
    sql: `
CREATE TABLE resource (
  resource_type text NOT NULL,
  id text NOT NULL,
  version_id bigint NOT NULL,
  last_updated timestamptz NOT NULL,
  content jsonb NOT NULL,
  content_hash text NOT NULL,
  patient_ids text[] NOT NULL DEFAULT '{}',
  security text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (resource_type, id)
);
CREATE INDEX resource_patient_ids_idx ON resource USING gin (patient_ids);
CREATE INDEX resource_last_updated_idx ON resource (resource_type, last_updated, id);

CREATE TABLE resource_history (
  resource_type text NOT NULL,
  id text NOT NULL,
  version_id bigint NOT NULL,
  last_updated timestamptz NOT NULL,
  content jsonb NOT NULL,
  patient_ids text[] NOT NULL DEFAULT '{}',
  security text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (resource_type, id, version_id)
);

CREATE TABLE sp_token (
  resource_type text NOT NULL, resource_id text NOT NULL, code text NOT NULL,
  system text, value text NOT NULL
);
CREATE INDEX sp_token_lookup_idx ON sp_token (resource_type, code, value, system);
CREATE INDEX sp_token_resource_idx ON sp_token (resource_type, resource_id);

CREATE TABLE sp_string (
  resource_type text NOT NULL, resource_id text NOT NULL, code text NOT NULL,
  value text NOT NULL, raw text NOT NULL
);
CREATE INDEX sp_string_lookup_idx ON sp_string (resource_type, code, value text_pattern_ops);
CREATE INDEX sp_string_resource_idx ON sp_string (resource_type, resource_id);

CREATE TABLE sp_date (
  resource_type text NOT NULL, resource_id text NOT NULL, code text NOT NULL,
  low timestamptz NOT NULL, high timestamptz NOT NULL
);
CREATE INDEX sp_date_lookup_idx ON sp_date (resource_type, code, low, high);
CREATE INDEX sp_date_resource_idx ON sp_date (resource_type, resource_id);

CREATE TABLE sp_reference (
  resource_type text NOT NULL, resource_id text NOT NULL, code text NOT NULL,
  target_type text NOT NULL, target_id text NOT NULL
);
CREATE INDEX sp_reference_target_idx ON sp_reference (target_type, target_id, resource_type, code);
CREATE INDEX sp_reference_resource_idx ON sp_reference (resource_type, resource_id);

CREATE TABLE sp_number (
  resource_type text NOT NULL, resource_id text NOT NULL, code text NOT NULL,
  value numeric NOT NULL, system text, unit text
);
CREATE INDEX sp_number_lookup_idx ON sp_number (resource_type, code, value);
CREATE INDEX sp_number_resource_idx ON sp_number (resource_type, resource_id);

CREATE TABLE inbox (
  id bigserial PRIMARY KEY,
  source text NOT NULL,
  kind text NOT NULL,
  dedup_key text NOT NULL,
  content_hash text NOT NULL,
  content bytea NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  outcome jsonb,
  processed_at timestamptz,
  UNIQUE (source, kind, dedup_key)
);
CREATE INDEX inbox_pending_idx ON inbox (status, id) WHERE status IN ('pending', 'retry');
`,
  },
  {
    version: 2,
    name: 'identity: person-level records, reviews, manual decisions, PDS traces',
    sql: `
CREATE TABLE identity_person (
  key text PRIMARY KEY,
  golden_id text UNIQUE,
  members text[] NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_person_members_idx ON identity_person USING gin (members);

-- Which person each source record belongs to: B-tree lookups by record (a GIN && over members
-- with hundreds of ids per batch measured at 1.5 s per batch at 100,000 records).
CREATE TABLE identity_member (
  patient_id text PRIMARY KEY,
  person_key text NOT NULL
);
CREATE INDEX identity_member_person_idx ON identity_member (person_key);

CREATE TABLE identity_review (
  kind text NOT NULL,
  nhs_number text NOT NULL,
  a text NOT NULL,
  b text NOT NULL,
  reason text NOT NULL,
  status text NOT NULL DEFAULT 'open',
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, a, b)
);
CREATE INDEX identity_review_open_idx ON identity_review (status, first_seen);

CREATE TABLE identity_decision (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('link', 'unlink')),
  a text NOT NULL,
  b text NOT NULL,
  reason text NOT NULL,
  decided_by text NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX identity_decision_a_idx ON identity_decision (a);
CREATE INDEX identity_decision_b_idx ON identity_decision (b);

CREATE TABLE identity_merge (
  id bigserial PRIMARY KEY,
  merged_id text NOT NULL,
  survivor_id text NOT NULL,
  moved text[] NOT NULL,
  reason text NOT NULL,
  merged_by text NOT NULL,
  merged_at timestamptz NOT NULL DEFAULT now(),
  unmerged_at timestamptz
);
CREATE INDEX identity_merge_merged_idx ON identity_merge (merged_id);

CREATE TABLE pds_trace (
  patient_id text NOT NULL,
  nhs_number text NOT NULL,
  outcome text NOT NULL,
  detail text,
  traced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_id, nhs_number)
);
`,
  },
  {
    version: 3,
    name: 'outbox of applied events; HL7v2 visit events for out-of-order folding; inbox retry time',
    sql: `
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  patient_id text,
  encounter_id text,
  source text NOT NULL,
  inbox_id bigint,
  event_time timestamptz NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (inbox_id, kind, encounter_id)
);
CREATE INDEX outbox_patient_idx ON outbox (patient_id, id);

CREATE TABLE hl7_visit_event (
  source text NOT NULL,
  visit_key text NOT NULL,
  inbox_id bigint NOT NULL,
  event_time timestamptz NOT NULL,
  message_time text NOT NULL,
  control_id text NOT NULL,
  event jsonb NOT NULL,
  PRIMARY KEY (source, visit_key, inbox_id)
);

ALTER TABLE inbox ADD COLUMN not_before timestamptz;
ALTER TABLE inbox ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()
`,
  },
  { version: 4, name: 'audit trail: hash-chained AuditEvents, signed checkpoints, alerts', sql: AUDIT_SCHEMA_SQL },
  {
    version: 5,
    name: 'social care extracts: imports, their uploads and reports, and the rows each source holds',
    sql: SOCIAL_CARE_MIGRATION_SQL,
  },
  {
    version: 6,
    name: 'GP Connect: each practice\'s view of each patient\'s record (as-of time, items per clinical area)',
    sql: `
CREATE TABLE gp_record_state (
  source text NOT NULL,
  nhs_number text NOT NULL,
  patient_id text NOT NULL,
  as_of timestamptz NOT NULL,
  areas jsonb NOT NULL,
  inbox_id bigint,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, nhs_number)
)
`,
  },
  {
    version: 8,
    name: 'hl7v2 application acknowledgements (enhanced mode MSH-16): a durable outbox',
    sql: `
CREATE TABLE hl7_app_ack (
  inbox_id bigint PRIMARY KEY,
  sender text NOT NULL,
  address text NOT NULL,
  code text NOT NULL,
  payload bytea NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX hl7_app_ack_due_idx ON hl7_app_ack (next_attempt_at) WHERE status = 'pending';
CREATE INDEX inbox_app_ack_wanted_idx ON inbox (id) WHERE (outcome ? 'applicationAck')
`,
  },
  {
    version: 10,
    name: 'access grants (permission to view, self-claimed relationships, break-glass); source systems and the organisation holding their data',
    sql: `
CREATE TABLE access_grant (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  user_id text NOT NULL,
  role text,
  organisation text,
  patient_id text NOT NULL,
  person_ids text[] NOT NULL,
  decision text,
  reason_code text,
  reason_text text,
  request_id text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX access_grant_user_idx ON access_grant USING gin (person_ids);
CREATE INDEX access_grant_user_time_idx ON access_grant (user_id, expires_at);

CREATE TABLE source_system (
  uri text PRIMARY KEY,
  organisation text NOT NULL,
  name text,
  kind text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)
`,
  },
  NOTIFY_MIGRATION,
  {
    version: 12,
    name: 'viewer sessions',
    sql: `
CREATE TABLE viewer_session (
  id_hash text PRIMARY KEY,
  token text NOT NULL,
  csrf text NOT NULL,
  user_id text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX viewer_session_expiry_idx ON viewer_session (expires_at)
`,
  },
  PASSPORT_MIGRATION,
  NOTIFY_WITHHELD_MIGRATION,
  {
    version: 15,
    name: 'viewer sign-in by OpenID Connect: sign-ins in progress (state, nonce, PKCE verifier), sessions holding verified claims',
    sql: `
CREATE TABLE viewer_sign_in (
  id_hash text PRIMARY KEY,
  state text NOT NULL,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX viewer_sign_in_expiry_idx ON viewer_sign_in (expires_at);
ALTER TABLE viewer_session ADD COLUMN kind text NOT NULL DEFAULT 'token';
ALTER TABLE viewer_session ADD COLUMN claims jsonb
`,
  },
  NOTIFY_ACKNOWLEDGER_NAME_MIGRATION,
  AUDIT_EVENT_JSON_MIGRATION,
  ACCESS_CHANGE_MIGRATION,
  NOTIFY_HANDSHAKE_MIGRATION,
];

/** An arbitrary constant shared by every CareBridge process: the advisory lock key for migrations. */
const MIGRATION_LOCK_KEY = 7_200_317;

export async function migrate(engine: SqlEngine, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  // Under the lock, so two processes starting at once don't race to create it.
  await engine.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const applied: number[] = [];
  for (const migration of migrations) {
    const didApply = await engine.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (done.rows.length > 0) return false;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (didApply) applied.push(migration.version);
  }
  return applied;
}

/** The versions the code expects and the versions the database has, for /readyz. */
export async function pendingMigrations(engine: SqlEngine, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const result = await engine.query<{ version: number }>('SELECT version FROM schema_migrations');
  const have = new Set(result.rows.map((r) => r.version));
  return migrations.map((m) => m.version).filter((v) => !have.has(v));
}

function splitStatements(sql: string): string[] {
  // Our migrations hold no semicolons inside literals or function bodies; keep it that way.
  return sql
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
