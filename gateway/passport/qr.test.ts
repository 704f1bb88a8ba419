import QRCode from 'qrcode';
import { loadPassportView } from '../../tests/passport/fixtures';
import { errorCorrectionLevel, matrixFromPng, matrixFromSvg, type ModuleMatrix } from '../../tests/passport/qr-matrix';
import { qrPng, qrSvg, verificationUrl } from './qr';

const transfer = loadPassportView('transfer');
const URL_ = 'https://carebridge.example.nhs.uk/passport/verify?id=3f6c2a90-5b1e-5d7a-9c41-0e8d2f7b6a13&v=2&h=9c1e4b7a2f08d3e6';

/** The symbol qrcode builds for the URL at level M, as rows of dark modules. */
function expectedMatrix(url: string): ModuleMatrix {
  const { modules } = QRCode.create(url, { errorCorrectionLevel: 'M' });
  return Array.from({ length: modules.size }, (_, row) => Array.from({ length: modules.size }, (_, column) => modules.get(row, column) === 1));
}

describe('verificationUrl', () => {
  test('points at the verify page with the id, version and fingerprint', () => {
    expect(verificationUrl('https://carebridge.example.nhs.uk', transfer)).toBe(URL_);
  });

  test('a trailing slash on the base is not doubled and the id is URL-encoded', () => {
    const view = { ...transfer, passportId: 'a b&c=d/é', version: 7 };
    expect(verificationUrl('https://cb.example/care/', view)).toBe('https://cb.example/care/passport/verify?id=a%20b%26c%3Dd%2F%C3%A9&v=7&h=9c1e4b7a2f08d3e6');
  });
});

describe('QR code of the verification URL', () => {
  test("qrcode's own segments for the URL round-trip it, as one byte segment at level M", () => {
    const symbol = QRCode.create(URL_, { errorCorrectionLevel: 'M' });
    expect(symbol.errorCorrectionLevel).toEqual({ bit: 0 });
    expect(symbol.segments.map((segment) => segment.mode.id)).toEqual(['Byte']);
    const decoded = Buffer.concat(symbol.segments.map((segment) => Buffer.from(segment.data as Uint8Array))).toString('utf8');
    expect(decoded).toBe(URL_);
  });

  test('the SVG draws exactly the symbol for the URL, at level M, with no script or style', async () => {
    const svg = await qrSvg(URL_);
    expect(svg).toMatch(/^<svg role="img" aria-label="QR code for the verification page" xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
    expect(svg).not.toMatch(/<script|style=|\son[a-z]+=/i);
    const matrix = matrixFromSvg(svg, 4);
    expect(matrix).toEqual(expectedMatrix(URL_));
    expect(errorCorrectionLevel(matrix)).toBe('M');
  });

  test('the PNG draws exactly the symbol for the URL, at level M, black on white', async () => {
    const png = await qrPng(URL_);
    const matrix = matrixFromPng(png, 4, 8);
    expect(matrix).toEqual(expectedMatrix(URL_));
    expect(errorCorrectionLevel(matrix)).toBe('M');
    // A different URL is a different picture: the comparison above can fail.
    expect(matrixFromPng(await qrPng(`${URL_}0`), 4, 8)).not.toEqual(matrix);
  });

  test('the format information reader tells level M from level H', () => {
    const { modules } = QRCode.create(URL_, { errorCorrectionLevel: 'H' });
    const matrix = Array.from({ length: modules.size }, (_, row) => Array.from({ length: modules.size }, (_, column) => modules.get(row, column) === 1));
    expect(errorCorrectionLevel(matrix)).toBe('H');
  });
});
