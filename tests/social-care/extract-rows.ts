import { readTableRows, type CsvIssue } from '../../adapters/social-care/csv-rows';
import { openExtract } from '../../adapters/social-care/extract-files';
import { TABLE_BY_FILE, type SourceRow } from '../../adapters/social-care/tables';
import { verifyExtract, type VerifiedExtract } from '../../adapters/social-care/verify';
import type { SocialCareContext } from '../../mappings/social-care/context';

/** An extract folder read the way the importer reads it: verified, then every row of every table. */
export async function readExtract(dir: string): Promise<{ verified: VerifiedExtract; context: SocialCareContext; rows: SourceRow[]; csvIssues: CsvIssue[] }> {
  const files = await openExtract(dir);
  try {
    const verified = await verifyExtract(files);
    const { manifest } = verified;
    const rows: SourceRow[] = [];
    const csvIssues: CsvIssue[] = [];
    for (const file of verified.tables) {
      const definition = TABLE_BY_FILE.get(file);
      if (!definition) continue;
      for await (const row of readTableRows(await files.open(file), manifest.encoding, definition, (i) => csvIssues.push(i))) rows.push(row);
    }
    return { verified, context: { source: manifest.sourceSystemUri, council: manifest.organisation, extractedAt: manifest.extractedAt, type: manifest.type }, rows, csvIssues };
  } finally {
    await files.close();
  }
}
