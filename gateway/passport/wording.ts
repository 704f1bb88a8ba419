/** The sentences the printable page and the PDF share, so a reader sees the same words in both. */

/** What a section says when something in it was withheld from this reader: that, never what. */
export const SECTION_WITHHELD_MARKER = 'Some information in this section has been withheld.';

/** The heading over the passport's own withheld notice. */
export const WITHHELD_NOTICE_HEADING = 'Information withheld';

/** Beside the QR code. */
export const VERIFY_PROMPT = 'Scan the code or open this address to check that this passport is authentic, unchanged and current:';

/** The audience without a leading "Issued for:", which both renderers print as the label. */
export function audienceText(audience: string): string {
  return audience.replace(/^\s*issued for:\s*/i, '');
}
