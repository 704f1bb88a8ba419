import type { PassportView } from '../../mappings/passport/view';
import { qrPng, qrSvg, verificationUrl } from './qr';
import { renderPassportHtml } from './render-html';
import { renderPassportPdf } from './render-pdf';

/** A reader's copy as the printable page and as the PDF, each with the QR code of its verification page. */
export async function passportHtml(view: PassportView, publicBaseUrl: string, options: { nonce?: string; stylesheetHref?: string } = {}): Promise<string> {
  const url = verificationUrl(publicBaseUrl, view);
  return renderPassportHtml(view, { verificationUrl: url, qrSvg: await qrSvg(url), ...options });
}

export async function passportPdf(view: PassportView, publicBaseUrl: string): Promise<Buffer> {
  const url = verificationUrl(publicBaseUrl, view);
  return renderPassportPdf(view, { verificationUrl: url, qrPng: await qrPng(url) });
}
