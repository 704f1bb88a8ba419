/**
 * Migration 5: social care extract imports (specs/social-care-extract.md).
 *
 * - social_care_import: one row per extract received (HTTP upload or command line), its status,
 *   counts and summary; claimed by one worker at a time with a lease, so several worker processes
 *   on one PostgreSQL never import the same extract twice at once.
 * - social_care_upload_chunk: an uploaded zip, in 1 MiB chunks, committed before the 202: nothing
 *   acknowledged is lost, and any worker process can read it (no shared disk needed).
 * - social_care_import_issue: every rejected or altered row (file, line, column, reason).
 * - social_care_record: each row the source currently holds (or held: retired rows stay), so a
 *   full extract can retire what it no longer contains, a delta can change one service of a care
 *   package, and open cases are built from all of a person's allocations. resources_hash is the
 *   hash of what the row last mapped to, written only after those resources were: a row that maps
 *   to the same again is not written again (the nightly full extract is mostly unchanged).
 */
export const SOCIAL_CARE_MIGRATION_SQL = `
CREATE TABLE social_care_import (
  id bigserial PRIMARY KEY,
  origin text NOT NULL,
  status text NOT NULL DEFAULT 'received',
  file_name text,
  size_bytes bigint NOT NULL DEFAULT 0,
  content_sha256 text,
  source text,
  extract_type text,
  manifest_sha256 text,
  received_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  lease_owner text,
  lease_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  progress jsonb,
  summary jsonb,
  last_error text
);
CREATE INDEX social_care_import_due_idx ON social_care_import (status, id) WHERE status IN ('received', 'running');

CREATE TABLE social_care_upload_chunk (
  import_id bigint NOT NULL REFERENCES social_care_import (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (import_id, seq)
);

CREATE TABLE social_care_import_issue (
  import_id bigint NOT NULL REFERENCES social_care_import (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  file text NOT NULL,
  line integer NOT NULL,
  col text,
  severity text NOT NULL,
  code text NOT NULL,
  reason text NOT NULL,
  record_id text,
  PRIMARY KEY (import_id, seq)
);

CREATE TABLE social_care_record (
  source text NOT NULL,
  tbl text NOT NULL,
  record_id text NOT NULL,
  person_id text NOT NULL,
  line integer NOT NULL,
  data jsonb NOT NULL,
  resources_hash text,
  retired_on date,
  last_import bigint NOT NULL,
  PRIMARY KEY (source, tbl, record_id)
);
CREATE INDEX social_care_record_person_idx ON social_care_record (source, person_id, tbl);
CREATE INDEX social_care_record_import_idx ON social_care_record (source, last_import)
`;
