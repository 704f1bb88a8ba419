import { createHash } from 'node:crypto';
import type { Attachment } from '@medplum/fhirtypes';
import type { Hl7Segment } from '../../../adapters/hl7v2/types';
import type { MapScope } from '../context';
import { simpleText } from '../datatypes/field';
import { at, Hl7ErrorCode, IssueReason } from '../issues';
import { ED_MIME_TYPES } from '../tables/document';
import { reportUnmappedFields } from './coverage';

/**
 * OBX observation/result (v2.5.1 §7.4.2) as document content in MDM: text lines (OBX-2 TX, FT,
 * ST) become one text/plain attachment; each ED (encapsulated data, e.g. a base64 PDF) and RP
 * (reference pointer) its own attachment. OBX-1 set id, OBX-3 identifier, OBX-4 sub-id and OBX-11
 * result status only frame the content.
 */
const HANDLED = new Set([1, 2, 3, 4, 5, 11, 14]);
const TEXT_TYPES = new Set(['TX', 'FT', 'ST']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function mimeType(type: string, subtype: string): string {
  const key = `${type}/${subtype}`.toUpperCase();
  if (type.includes('/')) return type.toLowerCase();
  return ED_MIME_TYPES[key] ?? (subtype ? `${type}/${subtype}`.toLowerCase() : 'application/octet-stream');
}

/** The bytes of ED data in an encoding from table 0299 (A: none, Base64, Hex), or undefined. */
function decode(encoding: string, data: string): Buffer | undefined {
  switch (encoding.toUpperCase()) {
    case 'BASE64': {
      const compact = data.replace(/\s+/g, '');
      return BASE64.test(compact) && compact.length % 4 === 0 ? Buffer.from(compact, 'base64') : undefined;
    }
    case 'HEX':
      return /^([0-9A-Fa-f]{2})*$/.test(data) ? Buffer.from(data, 'hex') : undefined;
    case 'A':
    case '':
      return Buffer.from(data, 'utf8');
    default:
      return undefined;
  }
}

export function attachmentOf(bytes: Buffer, contentType: string, title: string): Attachment {
  return {
    contentType,
    data: bytes.toString('base64'),
    size: bytes.length,
    hash: createHash('sha1').update(bytes).digest('base64'),
    ...(title ? { title } : {}),
  };
}

function encapsulated(scope: MapScope, segment: Hl7Segment, title: string): Attachment | undefined {
  const contentType = mimeType(segment.text(5, 2).trim(), segment.text(5, 3).trim());
  const encoding = segment.text(5, 4).trim();
  const bytes = decode(encoding, segment.text(5, 5));
  if (!bytes || bytes.length === 0) {
    scope.issues.error(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.INVALID_ATTACHMENT, at(segment, 5, 5), `OBX-5 encapsulated data is empty or not valid ${encoding || 'text'}`);
    return undefined;
  }
  if (contentType === 'application/pdf' && bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
    scope.issues.warning(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.INVALID_ATTACHMENT, at(segment, 5, 5), 'OBX-5 says PDF but the data does not start with a PDF header');
  }
  return attachmentOf(bytes, contentType, title);
}

function pointer(segment: Hl7Segment, title: string): Attachment | undefined {
  const url = segment.text(5, 1).trim();
  if (!url) return undefined;
  return { contentType: mimeType(segment.text(5, 3).trim(), segment.text(5, 4).trim()), url, ...(title ? { title } : {}) };
}

/** The content of a document's OBX segments, in order: the text first (if any), then each ED/RP. */
export function mapObxContent(scope: MapScope, segments: readonly Hl7Segment[], defaultTitle: string): Attachment[] {
  const lines: string[] = [];
  let textTitle = '';
  const attachments: Attachment[] = [];
  for (const segment of segments) {
    reportUnmappedFields(scope, segment, HANDLED);
    const valueType = simpleText(segment, 2).toUpperCase();
    const title = segment.text(3, 2).trim() || defaultTitle;
    if (TEXT_TYPES.has(valueType)) {
      textTitle ||= title;
      // Every repetition is a line, the empty ones too: blank lines are part of a letter's layout.
      const reps = segment.repetitions(5);
      if (reps === 0) lines.push('');
      for (let rep = 1; rep <= reps; rep++) lines.push(segment.text(5, 1, 1, rep));
      continue;
    }
    if (valueType === 'ED') {
      const a = encapsulated(scope, segment, title);
      if (a) attachments.push(a);
      continue;
    }
    if (valueType === 'RP') {
      const a = pointer(segment, title);
      if (a) attachments.push(a);
      continue;
    }
    scope.issues.warning(Hl7ErrorCode.DATA_TYPE_ERROR, IssueReason.FIELD_NOT_MAPPED, at(segment, 2), 'OBX-2 value type is not document content (TX, FT, ST, ED, RP); the OBX is not mapped');
  }
  const text = lines.length ? [attachmentOf(Buffer.from(lines.join('\n'), 'utf8'), 'text/plain; charset=utf-8', textTitle)] : [];
  return [...text, ...attachments];
}
