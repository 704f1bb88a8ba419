import type { Patient } from '@medplum/fhirtypes';
import type { Request, Response } from 'express';
import { NHS_NUMBER_SYSTEM } from '../../mappings/identity/nhs-number';
import { Interaction, type Requester } from '../access/hooks';
import type { SecureReader } from '../access/secure-reader';
import { parseSearch } from '../api/search-parser';
import { acknowledgeWorklistItem } from '../notify/acknowledge';
import { ownPartiesOnly, WorklistScope, type AcknowledgementAudit, type WorklistPermission } from '../notify/access';
import { recentlyFollowedUp, worklist, WorklistView, type WorklistItem } from '../notify/worklist';
import type { SqlClient } from '../store/engine';
import { hasWorklist } from './navigation';
import { requestIdOf, type SignedInUser, type ViewerPageKit, type ViewerPages } from './page-kit';

/**
 * The worklist as pages, for practices, teams and homes that run no webhook receiver (issues
 * "viewer" and "notifications"): admitted today, discharges expected this week, discharged and
 * not yet followed up, for each organisation, team and caseload the signed-in user belongs to.
 * The worklist module is called directly as the user; names come from one audited Patient search
 * as the user (what they may see of the person), and each item links to the record.
 */
export interface WorklistPagesOptions {
  readonly db: SqlClient;
  readonly reader: SecureReader;
  readonly permission?: WorklistPermission;
  readonly audit: AcknowledgementAudit;
  /** Name of an organisation or team (`system|value`, or a hospital's bare ODS code). */
  readonly partyName: (id: string) => string;
  readonly now?: () => Date;
}

const TOPIC_TEXT: Readonly<Record<string, string>> = {
  admission: 'Admitted',
  'ed-attendance': 'Attended the emergency department',
  'pending-discharge': 'Discharge planned',
  discharge: 'Discharged',
  death: 'Died in hospital',
};

const SECTIONS: readonly { view: WorklistView; id: string; title: string; empty: string }[] = [
  { view: WorklistView.ADMITTED_TODAY, id: 'admitted-today', title: 'Admitted today', empty: 'No one has been admitted today.' },
  { view: WorklistView.DISCHARGES_EXPECTED, id: 'discharges-expected', title: 'Discharges expected this week', empty: 'No discharges are expected in the next 7 days.' },
  { view: WorklistView.DISCHARGED_NOT_FOLLOWED_UP, id: 'discharged-not-followed-up', title: 'Discharged, not yet followed up', empty: 'Everyone discharged in the last 30 days has been followed up.' },
];

interface Party {
  readonly scope: WorklistScope;
  readonly id: string;
}

/** The organisation, teams and caseload of this requester that may see a worklist. */
function partiesOf(requester: Requester, may: WorklistPermission): Party[] {
  const parties: Party[] = [
    ...(requester.organisation ? [{ scope: WorklistScope.ORGANISATION, id: requester.organisation }] : []),
    ...(requester.teams ?? []).map((id) => ({ scope: WorklistScope.TEAM, id })),
    ...(requester.workerId ? [{ scope: WorklistScope.CASELOAD, id: requester.workerId }] : []),
  ];
  return parties.filter((p) => may(requester, p.scope, p.id));
}

interface ShownPerson {
  readonly name: string;
  readonly nhsNumber?: string;
  readonly birthDate?: string;
}

export function worklistPages(options: WorklistPagesOptions): ViewerPages {
  const may = options.permission ?? ownPartiesOnly;
  const now = options.now ?? ((): Date => new Date());

  return (router, kit: ViewerPageKit) => {
    const notAvailable = (res: Response, user: SignedInUser): void => {
      res.status(403);
      kit.page(res, 'message.njk', { ...kit.base(res, user), title: 'Not available', message: 'Your role has no worklist.', back: '/' });
    };

    /** What the user may see of each person: one audited search as them; nothing for those they may not see. */
    const peopleOf = async (res: Response, user: SignedInUser, patientIds: readonly string[]): Promise<Map<string, ShownPerson>> => {
      const shown = new Map<string, ShownPerson>();
      if (patientIds.length === 0) return shown;
      const params = new URLSearchParams({ _id: patientIds.join(','), _count: String(patientIds.length) });
      const query = parseSearch('Patient', params);
      const result = await options.reader.search(kit.readRequest(res, user.requester, Interaction.SEARCH, { resourceType: 'Patient', query }), query, 'viewer worklist');
      for (const p of result.matches as Patient[]) {
        if (!p.id) continue;
        const name = [p.name?.[0]?.family?.toUpperCase(), ...(p.name?.[0]?.given ?? [])].filter(Boolean).join(', ');
        const nhsNumber = p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
        shown.set(p.id, { name, ...(nhsNumber ? { nhsNumber } : {}), ...(p.birthDate ? { birthDate: p.birthDate } : {}) });
      }
      return shown;
    };

    const rowOf = (item: WorklistItem, people: Map<string, ShownPerson>, user: SignedInUser): Record<string, unknown> => {
      const patientId = item.patient?.reference.slice('Patient/'.length);
      const by = item.acknowledged?.by;
      return {
        id: item.id,
        patientId,
        person: patientId ? people.get(patientId) : undefined,
        what: TOPIC_TEXT[item.topic] ?? item.topic,
        hospital: item.hospital ? options.partyName(item.hospital) : undefined,
        ward: item.ward ?? undefined,
        when: item.eventTime,
        expectedDischarge: item.expectedDischarge ?? undefined,
        party: options.partyName(item.recipient),
        acknowledged: item.acknowledged
          ? { at: item.acknowledged.at, by: by === user.requester.userId ? `${user.requester.displayName ?? by} (you)` : (item.acknowledged.name ?? by) }
          : undefined,
      };
    };

    router.get(
      '/worklist',
      kit.requireSignIn(async (_req: Request, res: Response, user) => {
        const parties = hasWorklist(user.requester.role) ? partiesOf(user.requester, may) : [];
        if (parties.length === 0) {
          notAvailable(res, user);
          return;
        }
        const at = now();
        const sections = await Promise.all(
          SECTIONS.map(async (s) => {
            const lists = await Promise.all(parties.map((p) => worklist(options.db, s.view, p.id, at, 200)));
            return { ...s, items: lists.flat().sort((a, b) => a.eventTime.localeCompare(b.eventTime) || Number(a.id) - Number(b.id)) };
          }),
        );
        // Acknowledged discharges leave "not followed up"; today's are shown below it, with who and when.
        const followedUp = (await Promise.all(parties.map((p) => recentlyFollowedUp(options.db, p.id, at, 100)))).flat();
        const patientIds = [...new Set([...sections.flatMap((s) => s.items), ...followedUp].map((i) => i.patient?.reference.slice('Patient/'.length)).filter((id): id is string => id !== undefined))];
        const people = await peopleOf(res, user, patientIds.slice(0, 500));
        kit.page(res, 'worklist.njk', {
          ...kit.base(res, user),
          title: 'Worklist',
          parties: parties.map((p) => options.partyName(p.id)),
          sections: sections.map((s) => ({ ...s, items: s.items.map((i) => rowOf(i, people, user)) })),
          followedUp: followedUp.map((i) => rowOf(i, people, user)),
          generatedAt: at.toISOString(),
        });
      }),
    );

    router.post(
      '/worklist/items/:id/acknowledge',
      kit.requireSignIn(async (req: Request, res: Response, user) => {
        if (!hasWorklist(user.requester.role)) {
          notAvailable(res, user);
          return;
        }
        const requestId = requestIdOf(res);
        const acknowledged = await acknowledgeWorklistItem({ db: options.db, requester: user.requester, itemId: String(req.params['id']), permission: may, audit: options.audit, now: now(), ...(requestId ? { requestId } : {}) });
        if (!acknowledged) {
          res.status(404);
          kit.page(res, 'message.njk', { ...kit.base(res, user), title: 'Not found', message: 'There is no such item on your worklist.', back: '/worklist' });
          return;
        }
        res.redirect(303, `/worklist#item-${acknowledged.id}`);
      }),
    );
  };
}
