import { PurposeOfUse } from '../../consent/types';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM_SCOPE, type AccessScope } from '../store/access-scope';
import type { ScopedMatch } from '../store/resource-reader';
import type { SearchQuery } from '../store/search-query';

/**
 * The two hooks every read passes through. The access-control work fills them in; until then the
 * defaults permit everything and record nothing, and the shape is what matters: an access decision
 * that is partly SQL (applied before paging and counts) and partly a per-resource check and
 * redaction, and an audit record written before the response leaves.
 */

export const Interaction = {
  READ: 'read',
  VREAD: 'vread',
  HISTORY: 'history-instance',
  SEARCH: 'search-type',
  EVERYTHING: 'everything',
} as const;
export type Interaction = (typeof Interaction)[keyof typeof Interaction];

/** Purposes of use (HL7 v3 ActReason), as the access decisions in consent/ define them. */
export { PurposeOfUse };

/** Who is asking. Filled from a verified token by the access-control work; anonymous until then. */
export interface Requester {
  readonly userId: string;
  readonly displayName?: string;
  readonly role?: string;
  readonly organisation?: string;
  readonly teams?: readonly string[];
  /** The user as a source system knows them (e.g. a council's WORKER_ID), as `system|value`. */
  readonly workerId?: string;
  /** Set for source systems' tokens: the system's name. Systems write through intake only. */
  readonly system?: string;
  readonly purposeOfUse: PurposeOfUse;
}

export interface ReadRequest {
  readonly requestId: string;
  readonly requester: Requester;
  readonly interaction: Interaction;
  readonly resourceType?: string;
  /** The patient the request is about, when it is about one ($everything, or a read of a Patient). */
  readonly patientId?: string;
  /** The resource read (read, vread, history). */
  readonly resourceId?: string;
  /** The search asked (search), so the access rules can tell whose record it is about. */
  readonly query?: SearchQuery;
  /** Where the request came from, for the audit trail (optional: set by the HTTP edge when known). */
  readonly client?: ClientInfo;
}

/** The caller's network address and user agent as the HTTP edge saw them. */
export interface ClientInfo {
  readonly address?: string;
  readonly userAgent?: string;
}

export interface AccessHook {
  /**
   * The SQL part: what this request may see at all. May throw an AccessRefusal (a request the
   * rules refuse before reading, such as a search that names no person).
   */
  scope(request: ReadRequest): Promise<AccessScope>;
  /** The per-resource part: the resource as the requester may see it, or undefined to withhold it. */
  check(request: ReadRequest, resource: Resource): Resource | undefined;
  /** For the audit record: whose record the request was about, the decision and its reasons. */
  explain?(request: ReadRequest): AccessExplanation;
  /**
   * Every match of the request's own search, unscoped, when deciding the request read them all
   * already (once scope() has answered): the reader then applies the scope to these rather than
   * run the search again. Handed out once per request; undefined otherwise.
   */
  matchesRead?(request: ReadRequest): readonly ScopedMatch[] | undefined;
}

/** What the audit trail keeps of an access decision: no patient data beyond ids, reasons in words. */
export interface AccessExplanation {
  readonly patientIds: readonly string[];
  readonly decisions: readonly { readonly effect: 'permit' | 'deny'; readonly relationship?: string; readonly breakGlass: boolean; readonly reasons: readonly string[] }[];
  /** Things the privacy officer must be told of (access to very restricted data, an override of a refusal). */
  readonly alerts: readonly { readonly kind: string; readonly reason: string }[];
}

/** A request the access rules refuse before reading anything; the message is safe to show. */
export class AccessRefusal extends Error {
  constructor(
    readonly status: 400 | 403,
    message: string,
    readonly code: 'forbidden' | 'suppressed' | 'too-costly' | 'required' = 'forbidden',
  ) {
    super(message);
    this.name = 'AccessRefusal';
  }
}

export interface AuditRecord {
  readonly request: ReadRequest;
  readonly outcome: 'permit' | 'deny' | 'not-found' | 'error';
  /** References ('Type/id') of what was returned. */
  readonly returned: readonly string[];
  /** How many items were withheld (by scope or by check). */
  readonly withheld: number;
  /** Query string of a search, without values that could be patient data is the hook's business. */
  readonly query?: string;
  /** The access decision behind the outcome (from AccessHook.explain). */
  readonly access?: AccessExplanation;
  /** Why a request was refused before reading, when it was. */
  readonly refusal?: string;
  /** The access decision's reasons (optional; the access hook knows them). */
  readonly reasons?: readonly string[];
  /**
   * Patients whose data the request touched, when the caller knows more than request.patientId
   * (e.g. the patient of a withheld resource). When given it must name every patient whose data was
   * returned or withheld; when absent the audit trail finds the patients of what was returned.
   */
  readonly patientIds?: readonly string[];
}

export interface AuditHook {
  record(entry: AuditRecord): Promise<void>;
}

export const permitAll: AccessHook = {
  scope: () => Promise.resolve(SYSTEM_SCOPE),
  check: (_request, resource) => resource,
};

export const noAudit: AuditHook = {
  record: () => Promise.resolve(),
};
