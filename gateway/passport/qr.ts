/**
 * The passport's verification link and its QR code (specs/red-bag-passport.md: "The printed page
 * carries a QR code that opens the verification page"). Error correction level M: a creased or
 * smudged paper copy (15% of the symbol) still scans, without making the code too dense to read
 * at the printed size.
 */
import QRCode from 'qrcode';
import type { PassportView } from '../../mappings/passport/view';

const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;
/** Pixels per module in the PNG: sharp when the PDF draws the code about 3 cm wide. */
const PNG_SCALE = 8;

/** The verification page for this passport version: what the QR code opens and the page prints. */
export function verificationUrl(publicBaseUrl: string, view: PassportView): string {
  const base = publicBaseUrl.replace(/\/+$/, '');
  return (
    `${base}/passport/verify?id=${encodeURIComponent(view.passportId)}` +
    `&v=${view.version}&h=${encodeURIComponent(view.fingerprint)}`
  );
}

/** The QR code as an inline SVG element for the printable page: paths only, no script, no style. */
export async function qrSvg(url: string): Promise<string> {
  const svg = await QRCode.toString(url, { ...QR_OPTIONS, type: 'svg' });
  // Give the picture a name for screen readers; the URL itself is printed beside it.
  return svg.trim().replace(/^<svg /, '<svg role="img" aria-label="QR code for the verification page" ');
}

/** The QR code as a black-on-white PNG for the PDF. */
export async function qrPng(url: string): Promise<Buffer> {
  return QRCode.toBuffer(url, { ...QR_OPTIONS, type: 'png', scale: PNG_SCALE });
}
