import type { Migration } from '../store/migrations';

/**
 * Red bag passports: each bag's journey, every issued version of each passport (immutable: a
 * trigger refuses UPDATE and DELETE, as for the audit trail), the readers' copies issued from
 * them (by fingerprint, so the verification page can say what a printed copy is), and the
 * journey's place in the outbox. The migration runner splits on ';', so the trigger body writes it as \073.
 */
export const PASSPORT_MIGRATION: Migration = {
  version: 13,
  name: 'red bag passports: bags and their journeys, issued versions (immutable), readers\' copies, the journey\'s outbox cursor',
  sql: String.raw`
CREATE TABLE red_bag (
  id text PRIMARY KEY,
  patient_id text NOT NULL,
  person_ids text[] NOT NULL,
  care_home text NOT NULL,
  care_home_name text,
  state text NOT NULL,
  journey jsonb NOT NULL,
  encounter_id text,
  opened_by text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX red_bag_person_idx ON red_bag USING gin (person_ids);
CREATE INDEX red_bag_open_idx ON red_bag (state) WHERE state IN ('sent', 'arrived', 'awaiting-discharge', 'returned');

CREATE TABLE passport (
  id text NOT NULL,
  version integer NOT NULL,
  kind text NOT NULL,
  red_bag_id text NOT NULL REFERENCES red_bag (id),
  patient_id text NOT NULL,
  issued_at timestamptz NOT NULL,
  issued_by text NOT NULL,
  issued_by_user text NOT NULL,
  reason text,
  fingerprint text NOT NULL UNIQUE,
  document jsonb NOT NULL,
  PRIMARY KEY (id, version)
);
CREATE INDEX passport_bag_idx ON passport (red_bag_id, kind, version);
CREATE FUNCTION passport_immutable() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN RAISE EXCEPTION ''an issued passport is never changed: issue a new version'' USING ERRCODE = ''P0001''\073 END';
CREATE TRIGGER passport_immutable BEFORE UPDATE OR DELETE ON passport FOR EACH ROW EXECUTE FUNCTION passport_immutable();
CREATE TRIGGER passport_no_truncate BEFORE TRUNCATE ON passport FOR EACH STATEMENT EXECUTE FUNCTION passport_immutable();

CREATE TABLE passport_copy (
  fingerprint text PRIMARY KEY,
  passport_id text NOT NULL,
  version integer NOT NULL,
  copy text NOT NULL,
  audience text NOT NULL,
  withheld_sections text[] NOT NULL,
  first_issued_to text NOT NULL,
  created_at timestamptz NOT NULL,
  FOREIGN KEY (passport_id, version) REFERENCES passport (id, version)
);

CREATE TABLE red_bag_seen (
  outbox_id bigint PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE red_bag_cursor (
  name text PRIMARY KEY,
  outbox_id bigint NOT NULL
);
INSERT INTO red_bag_cursor (name, outbox_id) VALUES ('journey', 0)
`,
};
