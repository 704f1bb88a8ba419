import { MAX_PREPARED, NOT_PREPARED, PREPARE_AFTER, StatementNames } from './pg-engine';

describe('which statements are prepared on the server', () => {
  it('names a text once it has run PREPARE_AFTER times, the same name every time after', () => {
    const names = new StatementNames();
    const sql = 'SELECT content FROM resource WHERE resource_type = $1 AND id = $2';
    const given = Array.from({ length: PREPARE_AFTER + 2 }, () => names.nameFor(sql));
    expect(given.slice(0, PREPARE_AFTER - 1)).toEqual(Array.from({ length: PREPARE_AFTER - 1 }, () => undefined));
    const name = given[PREPARE_AFTER - 1];
    expect(name).toMatch(/^cb_[0-9a-f]{20}$/);
    expect(given.slice(PREPARE_AFTER)).toEqual([name, name]);
  });

  it('gives two texts two names, and stops naming new texts at MAX_PREPARED', () => {
    const names = new StatementNames(1, 3);
    expect(names.nameFor('SELECT $1::int')).not.toBe(names.nameFor('SELECT $1::text'));
    names.nameFor('SELECT $1::bigint');
    expect(names.prepared).toBe(3);
    expect(names.nameFor('SELECT $1::date')).toBeUndefined();
    expect(names.nameFor('SELECT $1::int')).toMatch(/^cb_/);
    expect(MAX_PREPARED).toBeGreaterThan(100);
  });

  it('never names a statement marked NOT_PREPARED, however often it runs', () => {
    const names = new StatementNames(1, 10);
    const sql = `SELECT id FROM resource WHERE id = ANY($1::text[])${NOT_PREPARED}`;
    expect([names.nameFor(sql), names.nameFor(sql), names.nameFor(sql)]).toEqual([undefined, undefined, undefined]);
    expect(names.prepared).toBe(0);
  });
});
