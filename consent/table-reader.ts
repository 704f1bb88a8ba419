/**
 * Reads a deployment's data table (parsed JSON) field by field, collecting every problem with its
 * path instead of stopping at the first, so a bad file is fixed in one pass. Hand-written rather
 * than a schema library: the tables are small, consent/ may import only @medplum/*, and the
 * messages name the domain's own values ("is not one of gp, …").
 */

export class TableError extends Error {
  constructor(
    readonly fileName: string,
    readonly problems: readonly string[],
  ) {
    super(`${fileName}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`);
    this.name = 'TableError';
  }
}

type Json = unknown;

export interface TableReader {
  has(path: string): boolean;
  object(path: string): Record<string, Json> | undefined;
  optionalObject(path: string): Record<string, Json> | undefined;
  string(path: string): string;
  stringList(path: string): string[];
  boolean(path: string): boolean;
  optionalBoolean(path: string): boolean | undefined;
  oneOf<T extends string>(path: string, allowed: readonly T[]): T;
  optionalOneOf<T extends string>(path: string, allowed: readonly T[]): T | undefined;
  listOf<T extends string>(path: string, allowed: readonly T[]): T[];
  onlyFields(path: string, fields: readonly string[]): void;
  problem(path: string, reason: string): void;
  finish(): void;
}

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function tableReader(root: Json, fileName: string): TableReader {
  const problems: string[] = [];
  const problem = (path: string, reason: string): void => {
    problems.push(`${path === '' ? '(top level)' : path}: ${reason}`);
  };
  const get = (path: string): Json => {
    let value: Json = root;
    for (const key of path === '' ? [] : path.split('.')) {
      if (!isObject(value)) return undefined;
      value = Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
    }
    return value;
  };
  const show = (v: Json): string => (v === undefined ? 'undefined' : JSON.stringify(v));
  const oneOf = <T extends string>(path: string, allowed: readonly T[], value: Json): T | undefined => {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    problem(path, `${show(value)} is not one of ${allowed.join(', ')}`);
    return undefined;
  };

  const reader: TableReader = {
    has: (path) => get(path) !== undefined,
    object(path) {
      const v = get(path);
      if (isObject(v)) return v;
      problem(path, v === undefined ? 'is missing' : 'must be an object');
      return undefined;
    },
    optionalObject(path) {
      return get(path) === undefined ? undefined : reader.object(path);
    },
    string(path) {
      const v = get(path);
      if (typeof v === 'string' && v.trim() !== '') return v;
      problem(path, v === undefined ? 'is missing' : 'must be a non-empty string');
      return '';
    },
    stringList(path) {
      const v = get(path);
      if (!Array.isArray(v)) {
        problem(path, v === undefined ? 'is missing' : 'must be a list of strings');
        return [];
      }
      return v.filter((item: Json, i) => {
        if (typeof item === 'string' && item !== '') return true;
        problem(`${path}[${i}]`, 'must be a non-empty string');
        return false;
      }) as string[];
    },
    boolean(path) {
      const v = get(path);
      if (typeof v === 'boolean') return v;
      problem(path, v === undefined ? 'is missing' : 'must be true or false');
      return false;
    },
    optionalBoolean(path) {
      return get(path) === undefined ? undefined : reader.boolean(path);
    },
    oneOf<T extends string>(path: string, allowed: readonly T[]): T {
      const v = get(path);
      if (v === undefined) {
        problem(path, `is missing (one of ${allowed.join(', ')})`);
        return allowed[0] as T;
      }
      return oneOf(path, allowed, v) ?? (allowed[0] as T);
    },
    optionalOneOf<T extends string>(path: string, allowed: readonly T[]): T | undefined {
      const v = get(path);
      return v === undefined ? undefined : oneOf(path, allowed, v);
    },
    listOf<T extends string>(path: string, allowed: readonly T[]): T[] {
      const v = get(path);
      if (!Array.isArray(v)) {
        problem(path, v === undefined ? 'is missing' : 'must be a list');
        return [];
      }
      const out: T[] = [];
      v.forEach((item: Json, i) => {
        const ok = oneOf(`${path}[${i}]`, allowed, item);
        if (ok !== undefined && !out.includes(ok)) out.push(ok);
      });
      return out;
    },
    onlyFields(path, fields) {
      const v = get(path);
      if (!isObject(v)) return;
      for (const key of Object.keys(v)) if (!fields.includes(key)) problem(path === '' ? key : `${path}.${key}`, `unknown field (expected one of ${fields.join(', ')})`);
    },
    problem,
    finish() {
      if (problems.length > 0) throw new TableError(fileName, problems);
    },
  };
  return reader;
}
