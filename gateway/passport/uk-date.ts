/**
 * Dates as UK readers expect them on a passport: "20 November 2026, 14:05", in UK time
 * (Europe/London, so GMT or BST as the date falls), whatever the server's own time zone.
 */

const UK_DATE_TIME = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/**
 * "20 November 2026, 14:05" for an ISO 8601 instant. Built from parts, because how `en-GB` joins
 * the date and the time ("," or " at ") differs between ICU versions. Text that is not a date is
 * returned as it is: a renderer prints what it was given rather than failing.
 */
export function formatUkDateTime(iso: string): string {
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) return iso;
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const { type, value } of UK_DATE_TIME.formatToParts(instant)) part[type] = value;
  return `${part.day ?? ''} ${part.month ?? ''} ${part.year ?? ''}, ${part.hour ?? ''}:${part.minute ?? ''}`;
}
