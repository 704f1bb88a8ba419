import type { Migration } from '../store/migrations';

/**
 * Migration 18: what tells a remembered access decision that it may no longer hold.
 *
 * A decision for (user, person) reads the person's identity links, the relationship resources in
 * their compartment (person-record.ts RELATIONSHIP_TYPES), the user's grants for them and the
 * organisations holding each source. Every write to one of those is noted here by the database
 * itself, in triggers, whatever code made it: `access_change` gets a row of weight 1 for each
 * patient id the written rows concern (before and after an update, so a resource moved away from a
 * person counts for them too), and `*` for a change to the source systems, or a table emptied,
 * which concern everyone. identity_member needs no trigger: which person an id belongs to is read
 * with the epoch, and a remembered decision is used only for the same ids (caldicott-access.ts).
 *
 * The rows are only ever inserted (no row lock is taken, so intake transactions cannot wait on one
 * another or deadlock here); the sum of the weights of a person's ids is their "epoch", and it
 * grows with every change whatever order the writing transactions commit in. Compaction (see
 * decision-cache.ts) replaces a patient's rows by one row holding their sum, in one statement, so
 * no reader ever sees the sum change.
 *
 * The migration runner splits scripts on ';', so the function bodies are E'' strings whose
 * semicolons are written as the octal escape \073 (as audit-schema.ts does).
 */

/** Types whose rows decide access, as person-record.ts RELATIONSHIP_TYPES had them when this migration was released. */
const RELATIONSHIP_TYPES_AT_18 = ['Patient', 'CareTeam', 'EpisodeOfCare', 'Encounter', 'ServiceRequest', 'Consent'];

interface Watched {
  readonly table: string;
  /** The patient ids a row of the table concerns, as an expression over the row `r`. */
  readonly ids: string;
  /** Which rows count, over `r` (or TRUE). */
  readonly when: string;
}

const WATCHED: readonly Watched[] = [
  {
    table: 'resource',
    ids: `CASE WHEN r.resource_type = 'Patient' THEN array_append(r.patient_ids, r.id) ELSE r.patient_ids END`,
    when: `r.resource_type IN (${RELATIONSHIP_TYPES_AT_18.map((t) => `'${t}'`).join(', ')})`,
  },
  { table: 'identity_person', ids: 'array_append(r.members, r.golden_id)', when: 'TRUE' },
  { table: 'access_grant', ids: 'array_append(r.person_ids, r.patient_id)', when: 'TRUE' },
  { table: 'source_system', ids: `ARRAY['*']`, when: 'TRUE' },
];

/** A PL/pgSQL body as an E'' literal: quotes doubled, semicolons as \073. */
const body = (statements: readonly string[]): string => `E'BEGIN ${statements.map((s) => s.replace(/'/g, "''")).join('\\073 ')}\\073 RETURN NULL\\073 END'`;

function watch(w: Watched): string {
  const insert = (rows: string): string =>
    `INSERT INTO access_change (patient_id) SELECT DISTINCT x FROM (${rows}) r, unnest(${w.ids}) x WHERE x IS NOT NULL AND ${w.when}`;
  const fn = `access_change_${w.table}`;
  return [
    `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS ${body([insert('SELECT * FROM changed')])}`,
    `CREATE FUNCTION ${fn}_update() RETURNS trigger LANGUAGE plpgsql AS ${body([insert('SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows')])}`,
    `CREATE TRIGGER ${fn}_insert AFTER INSERT ON ${w.table} REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    `CREATE TRIGGER ${fn}_delete AFTER DELETE ON ${w.table} REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    `CREATE TRIGGER ${fn}_update AFTER UPDATE ON ${w.table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}_update()`,
    // Emptied wholesale (a reset, a restore): that concerns everyone.
    `CREATE TRIGGER ${fn}_truncate AFTER TRUNCATE ON ${w.table} FOR EACH STATEMENT EXECUTE FUNCTION access_change_everyone()`,
  ].join(';\n');
}

export const ACCESS_CHANGE_MIGRATION: Migration = {
  version: 18,
  name: 'access changes: what tells a remembered access decision it may no longer hold',
  sql: [
    `CREATE TABLE access_change (patient_id text NOT NULL, weight bigint NOT NULL DEFAULT 1)`,
    `CREATE INDEX access_change_patient_idx ON access_change (patient_id)`,
    `CREATE FUNCTION access_change_everyone() RETURNS trigger LANGUAGE plpgsql AS ${body([`INSERT INTO access_change (patient_id) VALUES ('*')`])}`,
    ...WATCHED.map(watch),
  ].join(';\n'),
};
