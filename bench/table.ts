/** A plain-text table: first row is the header, numbers right-aligned, everything else left. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const numeric = /^[\d,.\-–%×]+( ?[a-z/%]+)?$|^—$/;
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => (numeric.test(cell) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const [header, ...body] = rows;
  if (!header) return '';
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function rate(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-GB') : '—';
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return '—';
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

export function percent(n: number): string {
  return Number.isFinite(n) ? `${Math.round(n * 100)}%` : '—';
}
