/**
 * Reading a QR symbol's module matrix back out of the SVG and the PNG that qr.ts produces, and the
 * error correction level out of the symbol's format information (ISO/IEC 18004 §7.9), so tests can
 * check the pictures encode the symbol for the URL rather than trusting the library's word.
 */
import { decodePng } from './decode-png';

/** Dark modules as rows of booleans, quiet zone excluded. */
export type ModuleMatrix = boolean[][];

/** The symbol drawn by qrcode's SVG: one path of horizontal runs ("M4 4.5h7m3 0h1…"). */
export function matrixFromSvg(svg: string, margin: number): ModuleMatrix {
  const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  const path = /<path stroke="#000000" d="([^"]+)"/.exec(svg);
  if (viewBox?.[1] === undefined || path?.[1] === undefined) throw new Error('not a qrcode SVG');
  const size = Number(viewBox[1]) - 2 * margin;
  const matrix: ModuleMatrix = Array.from({ length: size }, () => Array.from({ length: size }, () => false));
  let x = 0;
  let y = 0;
  for (const [, command, a, b] of path[1].matchAll(/([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?/g)) {
    const first = Number(a);
    if (command === 'M') [x, y] = [first, Number(b)];
    else if (command === 'm') [x, y] = [x + first, y + Number(b)];
    else {
      for (let i = 0; i < first; i++) matrix[Math.floor(y) - margin]![x + i - margin] = true;
      x += first;
    }
  }
  return matrix;
}

/** The symbol in qrcode's PNG, sampled at the centre of each module. */
export function matrixFromPng(png: Buffer, margin: number, scale: number): ModuleMatrix {
  const image = decodePng(png);
  const size = image.width / scale - 2 * margin;
  return Array.from({ length: size }, (_, row) =>
    Array.from({ length: size }, (_, column) => image.isDark((column + margin) * scale + scale / 2, (row + margin) * scale + scale / 2)),
  );
}

const FORMAT_MASK = 0b101010000010010;
const LEVELS = ['M', 'L', 'H', 'Q'] as const;

/**
 * The error correction level in the format information beside the top-left finder: bits 0–7 down
 * column 8 (skipping the timing row 6), bits 8–14 along row 8 from column 7 leftwards (skipping the
 * timing column 6), unmasked; the two top bits are the level (01 L, 00 M, 11 Q, 10 H).
 */
export function errorCorrectionLevel(matrix: ModuleMatrix): (typeof LEVELS)[number] {
  const rows = [0, 1, 2, 3, 4, 5, 7, 8];
  const columns = [7, 5, 4, 3, 2, 1, 0];
  let bits = 0;
  rows.forEach((row, i) => (bits |= (matrix[row]![8]! ? 1 : 0) << i));
  columns.forEach((column, i) => (bits |= (matrix[8]![column]! ? 1 : 0) << (i + 8)));
  return LEVELS[((bits ^ FORMAT_MASK) >> 13) & 0b11]!;
}
