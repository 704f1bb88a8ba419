/** Calls `visit` with every Reference.reference string anywhere in a resource (any depth, contained resources too). */
export function eachReference(value: unknown, visit: (reference: string) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) eachReference(v, visit);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'reference' && typeof v === 'string') visit(v);
    else eachReference(v, visit);
  }
}
