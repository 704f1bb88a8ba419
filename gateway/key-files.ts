import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { ConfigError } from './config';

/**
 * Key files for the development signing keys (audit checkpoints, red bag passports) and the
 * configured ones: created once, read with an error that names the setting.
 */

/** Creates a development key once; two processes starting together agree on one (exclusive create). */
export function createKeyFileOnce(path: string, makePem: () => string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    writeSync(fd, makePem());
  } finally {
    closeSync(fd);
  }
}

/** A PEM file's text, or a ConfigError naming the setting it came from. */
export function readKeyFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
