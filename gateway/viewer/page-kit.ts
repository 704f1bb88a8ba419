import type { NextFunction, Request, Response, Router } from 'express';
import type { PersonAccess } from '../access/caldicott-access';
import type { ReadRequest, Requester } from '../access/hooks';
import type { ViewerSession } from './sessions';

/**
 * What the viewer router lends to pages kept in files of their own (the worklist, the privacy
 * officer's pages): rendering in the layout, sign-in and CSRF checks, the base context of a page.
 * Each set of pages is a function that registers its routes on the viewer's router with this kit.
 */
export interface SignedInUser {
  readonly session: ViewerSession;
  readonly requester: Requester;
}

export type SignedInHandler = (req: Request, res: Response, user: SignedInUser) => Promise<void>;

/** A link shown prominently under the record's banner (e.g. the person's red bag). */
export interface RecordLink {
  readonly href: string;
  readonly text: string;
  /** One line under the link ("Sent with the person: passport issued, 20 November 2026, 02:40"). */
  readonly detail?: string;
}

/**
 * What a set of pages adds to a record page, for this reader and person (nothing when they have
 * nothing to add), under the access decision the record page took for them (not taken again).
 */
export type RecordLinkProvider = (requester: Requester, patientId: string, decided: PersonAccess) => Promise<readonly RecordLink[]>;

export interface ViewerPageKit {
  /** Renders a template in the layout, with the CSP nonce. */
  readonly page: (res: Response, template: string, context: Record<string, unknown>) => void;
  /** Signed-in users only (others go to sign-in); POSTs must carry the session's CSRF token. */
  readonly requireSignIn: (handler: SignedInHandler) => (req: Request, res: Response, next: NextFunction) => Promise<void>;
  /** The context every page has: the user for the header, the CSRF token for forms. */
  readonly base: (res: Response, user: SignedInUser) => Record<string, unknown>;
  readonly readRequest: (res: Response, requester: Requester, interaction: ReadRequest['interaction'], about: Partial<ReadRequest>) => ReadRequest;
  /** Adds links to the record page's banner, asked for each record page shown. */
  readonly addRecordLinks: (provider: RecordLinkProvider) => void;
}

export type ViewerPages = (router: Router, kit: ViewerPageKit) => void;

/** The request id for audit entries (set by the app for every request). */
export function requestIdOf(res: Response): string {
  return typeof res.locals['requestId'] === 'string' ? res.locals['requestId'] : '';
}
