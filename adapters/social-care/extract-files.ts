import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

/**
 * The files of an extract, from a folder or a .zip of it, each opened as a stream (nothing is
 * unpacked to disk or held whole in memory). A zip whose files sit in one folder is read as that
 * folder; macOS resource forks and sub-folders are ignored.
 */
export interface ExtractFiles {
  /** File names at the top of the extract. */
  readonly names: readonly string[];
  open(name: string): Promise<Readable>;
  close(): Promise<void>;
}

export class ExtractReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExtractReadError';
  }
}

export async function openExtract(path: string): Promise<ExtractFiles> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ExtractReadError(`${basename(path)}: no such file or folder`);
  return info.isDirectory() ? openFolder(path) : openZip(path);
}

async function openFolder(dir: string): Promise<ExtractFiles> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isFile()).map((e) => e.name).sort();
  return {
    names,
    open: (name) => {
      if (!names.includes(name)) return Promise.reject(new ExtractReadError(`${name} is not in the extract`));
      return Promise.resolve(createReadStream(join(dir, name)));
    },
    close: () => Promise.resolve(),
  };
}

function openZip(path: string): Promise<ExtractFiles> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true }, (err, zip) => {
      if (err) {
        reject(new ExtractReadError(`${basename(path)} is neither a folder nor a readable zip file`));
        return;
      }
      const entries: yauzl.Entry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!entry.fileName.endsWith('/') && !entry.fileName.startsWith('__MACOSX/')) entries.push(entry);
        zip.readEntry();
      });
      zip.on('error', () => {
        zip.close();
        reject(new ExtractReadError(`${basename(path)} is a damaged zip file`));
      });
      zip.on('end', () => {
        const byName = topLevelEntries(entries);
        resolve({
          names: [...byName.keys()].sort(),
          open: (name) =>
            new Promise((res, rej) => {
              const entry = byName.get(name);
              if (!entry) {
                rej(new ExtractReadError(`${name} is not in the extract`));
                return;
              }
              zip.openReadStream(entry, (e, stream) => {
                if (e) rej(new ExtractReadError(`${name} cannot be read from the zip file`));
                else res(stream);
              });
            }),
          close: () => {
            zip.close();
            return Promise.resolve();
          },
        });
      });
      zip.readEntry();
    });
  });
}

/** Files at the top, or inside the one folder every file shares. */
function topLevelEntries(entries: readonly yauzl.Entry[]): Map<string, yauzl.Entry> {
  const folders = new Set(entries.map((e) => (e.fileName.includes('/') ? e.fileName.slice(0, e.fileName.indexOf('/') + 1) : '')));
  const prefix = folders.size === 1 ? ([...folders][0] ?? '') : '';
  const out = new Map<string, yauzl.Entry>();
  for (const e of entries) {
    if (!e.fileName.startsWith(prefix)) continue;
    const rest = e.fileName.slice(prefix.length);
    if (rest && !rest.includes('/')) out.set(rest, e);
  }
  return out;
}
