import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yazl from 'yazl';

/** Zips an extract folder (optionally inside a top folder, as people often do) into a Buffer. */
export function zipFolder(dir: string, inside = ''): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const name of readdirSync(dir)) zip.addBuffer(readFileSync(join(dir, name)), `${inside}${name}`);
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
