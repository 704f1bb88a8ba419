import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { SqlClient } from '../store/engine';
import { createImport, ImportOrigin, ImportStatus } from './imports';

/**
 * An uploaded extract kept in the store before it is acknowledged: the body streamed into 1 MiB
 * chunks (social_care_upload_chunk), then the import row flipped from `uploading` to `received`.
 * Only then does the client get its 202; a crash before that leaves an `uploading` row that no
 * worker takes (the client got no 202 and sends again). Any worker process can read it back.
 */
export const CHUNK_BYTES = 1024 * 1024;
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The upload is larger than ${limit} bytes`);
    this.name = 'UploadTooLargeError';
  }
}

export class NotAZipError extends Error {
  constructor() {
    super('The upload is not a zip file');
    this.name = 'NotAZipError';
  }
}

export async function storeUpload(db: SqlClient, body: Readable, options: { fileName?: string; maxBytes: number }): Promise<{ importId: string; sizeBytes: number; sha256: string }> {
  const importId = await createImport(db, { origin: ImportOrigin.HTTP, status: ImportStatus.UPLOADING, fileName: options.fileName });
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let seq = 0;
  let size = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const data = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    if (seq === 0 && !data.subarray(0, 4).equals(ZIP_MAGIC)) throw new NotAZipError();
    await db.query('INSERT INTO social_care_upload_chunk (import_id, seq, data) VALUES ($1::bigint, $2, $3)', [importId, seq++, data]);
  };
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buffer.length;
      if (size > options.maxBytes) throw new UploadTooLargeError(options.maxBytes);
      hash.update(buffer);
      pending.push(buffer);
      pendingBytes += buffer.length;
      if (pendingBytes >= CHUNK_BYTES) await flush();
    }
    await flush();
    if (size === 0) throw new NotAZipError();
  } catch (err) {
    await db.query('DELETE FROM social_care_import WHERE id = $1::bigint', [importId]);
    throw err;
  }
  const sha256 = hash.digest('hex');
  await db.query(`UPDATE social_care_import SET status = 'received', size_bytes = $2, content_sha256 = $3 WHERE id = $1::bigint`, [importId, size, sha256]);
  return { importId, sizeBytes: size, sha256 };
}

/** Writes the stored upload to a private temporary file (chunk by chunk); remove it with the returned cleanup. */
export async function uploadToTempFile(db: SqlClient, importId: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'carebridge-social-care-'));
  const path = join(dir, 'extract.zip');
  const out = createWriteStream(path, { mode: 0o600 });
  try {
    for (let seq = 0; ; seq++) {
      const result = await db.query<{ data: Uint8Array }>('SELECT data FROM social_care_upload_chunk WHERE import_id = $1::bigint AND seq = $2', [importId, seq]);
      const row = result.rows[0];
      if (!row) break;
      if (!out.write(Buffer.from(row.data))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
