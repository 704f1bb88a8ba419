/**
 * The audit trail's tables (migration 4). The trail is kept apart from the record: AuditEvents live
 * here, never in the resource table, and only the privacy officer's API reads them.
 *
 * - audit_event: one row per audited request, append-only, hash-chained by seq (see chain.ts).
 * - audit_chain_head: one row, the last seq and hash; every append locks it (SELECT … FOR UPDATE),
 *   so appends from several processes on one PostgreSQL form one linear chain.
 * - audit_checkpoint: signed (seq, hash, time) checkpoints, append-only.
 * - audit_alert / audit_alert_review: alerts for the privacy officer and their one review each,
 *   both append-only (an alert is open until it has a review).
 *
 * Append-only is enforced by the database: a trigger raises on UPDATE, DELETE and TRUNCATE. The
 * migration runner splits scripts on ';', so the trigger function's body is an E'' string whose
 * semicolons are written as the octal escape \073.
 */
export const AUDIT_SCHEMA_SQL = String.raw`
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
E'BEGIN RAISE EXCEPTION ''the audit trail is append-only: % on % refused'', TG_OP, TG_TABLE_NAME USING ERRCODE = ''insufficient_privilege''\073 END';

CREATE TABLE audit_event (
  seq bigint PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  recorded timestamptz NOT NULL,
  tx bigint NOT NULL DEFAULT txid_current(),
  request_id text,
  user_id text NOT NULL,
  organisation text,
  role text,
  purpose text,
  interaction text NOT NULL,
  outcome text NOT NULL,
  patient_ids text[] NOT NULL DEFAULT '{}',
  event jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_event_patient_idx ON audit_event USING gin (patient_ids);
CREATE INDEX audit_event_user_idx ON audit_event (user_id, seq);
CREATE INDEX audit_event_organisation_idx ON audit_event (organisation, seq);
CREATE INDEX audit_event_recorded_idx ON audit_event (recorded);
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TABLE audit_chain_head (
  id smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text NOT NULL,
  checkpoint_seq bigint NOT NULL DEFAULT 0,
  checkpoint_at timestamptz
);
INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TRIGGER audit_chain_head_keep BEFORE DELETE ON audit_chain_head FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TABLE audit_checkpoint (
  seq bigint PRIMARY KEY,
  hash text NOT NULL,
  created timestamptz NOT NULL,
  kid text NOT NULL,
  jws text NOT NULL
);
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TABLE audit_alert (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  raised_at timestamptz NOT NULL,
  user_id text NOT NULL,
  requester jsonb NOT NULL,
  organisation text,
  patient_id text NOT NULL,
  reason text NOT NULL,
  request_id text
);
CREATE INDEX audit_alert_raised_idx ON audit_alert (raised_at, id);
CREATE INDEX audit_alert_patient_idx ON audit_alert (patient_id);
CREATE TRIGGER audit_alert_append_only BEFORE UPDATE OR DELETE ON audit_alert FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_alert_no_truncate BEFORE TRUNCATE ON audit_alert FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE TABLE audit_alert_review (
  alert_id uuid PRIMARY KEY REFERENCES audit_alert (id),
  outcome text NOT NULL,
  note text,
  reviewer_id text NOT NULL,
  reviewer jsonb NOT NULL,
  reviewed_at timestamptz NOT NULL
);
CREATE TRIGGER audit_alert_review_append_only BEFORE UPDATE OR DELETE ON audit_alert_review FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_alert_review_no_truncate BEFORE TRUNCATE ON audit_alert_review FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()
`;

/**
 * The audit entry as json, not jsonb: entries are written far more often than read, nothing queries
 * inside them (the columns beside them are what searches use), and jsonb's conversion of a large
 * entry (a record page lists every resource it showed) was most of the database's cost of auditing
 * it. json keeps the canonical text the hash was computed over. Rewrites the table once.
 */
export const AUDIT_EVENT_JSON_MIGRATION = {
  version: 17,
  name: 'audit trail: entries stored as json (their canonical text) instead of jsonb',
  sql: 'ALTER TABLE audit_event ALTER COLUMN event TYPE json USING event::json',
} as const;
