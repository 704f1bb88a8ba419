import type { JWK } from 'jose';
import type { SqlClient } from '../store/engine';
import { listCheckpoints, type Checkpoint } from './chain';
import type { CheckpointKeySet } from './signing';

/**
 * Exported checkpoints: a JSON file kept away from the database (another system, write-once
 * storage, printed). A rewrite of the whole chain that also replaces the database's checkpoints
 * still disagrees with a checkpoint exported before it. The file carries the public keys for
 * information; verification trusts only the keys it is configured with.
 */
export const CHECKPOINT_FILE_FORMAT = 'carebridge-audit-checkpoints';

export interface CheckpointFile {
  readonly format: typeof CHECKPOINT_FILE_FORMAT;
  readonly version: 1;
  readonly exportedAt: string;
  readonly keys: { keys: JWK[] };
  readonly checkpoints: readonly Checkpoint[];
}

/** An exported checkpoint as read back: only `jws` is trusted, after its signature is verified. */
export interface ExportedCheckpoint {
  /** Where it came from, for messages: 'file.json checkpoints[3]'. */
  readonly where: string;
  readonly jws: string;
}

export async function exportCheckpoints(db: SqlClient, keys: CheckpointKeySet, now: Date): Promise<CheckpointFile> {
  return { format: CHECKPOINT_FILE_FORMAT, version: 1, exportedAt: now.toISOString(), keys: keys.jwks(), checkpoints: await listCheckpoints(db) };
}

export class CheckpointFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}: ${field}: ${reason}`);
    this.name = 'CheckpointFileError';
  }
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Parses an exported file; a malformed file is refused as a whole, naming the field and why. */
export function parseCheckpointFile(text: string, file: string): ExportedCheckpoint[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CheckpointFileError(file, '(file)', `not JSON (${(err as Error).message})`);
  }
  const doc = parsed as Partial<CheckpointFile> | null;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CheckpointFileError(file, '(file)', 'not a JSON object');
  if (doc.format !== CHECKPOINT_FILE_FORMAT) throw new CheckpointFileError(file, 'format', `expected '${CHECKPOINT_FILE_FORMAT}'`);
  if (!Array.isArray(doc.checkpoints)) throw new CheckpointFileError(file, 'checkpoints', 'expected an array');
  return (doc.checkpoints as unknown[]).map((c, i) => {
    const jws = (c as { jws?: unknown } | null)?.jws;
    if (typeof jws !== 'string' || !COMPACT_JWS.test(jws)) throw new CheckpointFileError(file, `checkpoints[${String(i)}].jws`, 'not a compact JWS');
    return { where: `${file} checkpoints[${String(i)}]`, jws };
  });
}
