/**
 * A GP Connect response or POST body as JSON: bytes in, a value or a reason out. The reason names
 * where the JSON broke (line and column) and never quotes the content (it holds patient data).
 */
export type ParsedGpBundle = { ok: true; value: unknown } | { ok: false; error: string };

export const MAX_GP_BUNDLE_BYTES = 32 * 1024 * 1024;

function position(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return '';
  const offset = Number(m[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` at line ${String(line)}, column ${String(column)}`;
}

export function parseGpBundle(content: Buffer): ParsedGpBundle {
  if (content.length === 0) return { ok: false, error: 'The body is empty' };
  if (content.length > MAX_GP_BUNDLE_BYTES) return { ok: false, error: `The bundle is ${String(content.length)} bytes, over the ${String(MAX_GP_BUNDLE_BYTES)}-byte limit` };
  const text = content.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    return { ok: false, error: `The body is not valid JSON${position(text, message)}` };
  }
}
