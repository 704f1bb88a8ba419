import type { AccessHook } from '../gateway/access/hooks';

/**
 * The parts of an access hook a bench's timing wrapper passes through untimed, bound to the hook,
 * as the app's reader gets them: the audit's explanation, and the matches a Patient search's
 * decision read (so the reader scopes its first page from them rather than searching again).
 */
export function untimedAccessParts(access: AccessHook): Pick<AccessHook, 'explain' | 'matchesRead'> {
  return {
    ...(access.explain ? { explain: access.explain.bind(access) } : {}),
    ...(access.matchesRead ? { matchesRead: access.matchesRead.bind(access) } : {}),
  };
}
