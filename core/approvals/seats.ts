import type { Language } from '../commands.ts';
import { translate } from '../messages/index.ts';
import type { Approval, Vote } from './types.ts';

/**
 * Active delegations of an approval's approvers (docs/delegation.md): approver (the seat) → who
 * decides in their place, and the approver's name for cards and messages.
 *
 * @example new Map([['alice', { to: 'carol', name: 'Alice' }]])
 */
export type Delegates = ReadonlyMap<string, { to: string; name: string }>;

/** No delegations. */
export const NO_DELEGATES: Delegates = new Map();

/**
 * The seat a vote fills: the approver it counts for (the voter's own, or the one they stand in
 * for). Each seat counts once; each person votes once.
 */
export function seatOf(vote: Vote): string {
  return vote.onBehalfOf?.user ?? vote.user;
}

/** Whether a person (or a seat) may approve this request: not its requester (unless allowed), not excluded. */
export function mayApprove(approval: Approval, user: string): boolean {
  if (!approval.policy.allowSelfApproval && user === approval.requester.user) return false;
  return !approval.excluded?.some((e) => e.user === user);
}

/**
 * Who can fill an approver's seat now: their delegate when one is set, may approve this request
 * and has not voted yet; else the approver.
 */
export function holderOf(approval: Approval, seat: string, delegates: Delegates): string {
  const to = delegates.get(seat)?.to;
  if (!to || to === seat || !mayApprove(approval, to)) return seat;
  return approval.votes.some((v) => v.user === to) ? seat : to;
}

/**
 * The seats an approval still waits on (no vote counts for them, and they may approve) and who
 * can fill each now.
 */
export function waitingSeats(
  approval: Approval,
  delegates: Delegates = NO_DELEGATES,
): Array<{ seat: string; holder: string }> {
  const taken = new Set(approval.votes.map(seatOf));
  const voters = new Set(approval.votes.map((v) => v.user));
  return approval.policy.approvers
    .filter((seat) => !taken.has(seat) && mayApprove(approval, seat))
    .map((seat) => ({ seat, holder: holderOf(approval, seat, delegates) }))
    .filter(({ holder }) => !voters.has(holder));
}

/**
 * The delegates the approval's cards went to when it was asked (or escalated), as a map: a card
 * once sent is not sent again when a delegation starts or ends.
 */
export function delegatesOnCards(approval: Approval): Delegates {
  return new Map((approval.delegated ?? []).map((d) => [d.user, { to: d.to, name: d.name }]));
}

/** Who gets the approval's cards: each approver, or their delegate when the card went to one; once each. */
export function cardHolders(approval: Approval): string[] {
  const delegates = delegatesOnCards(approval);
  return [...new Set(approval.policy.approvers.map((seat) => delegates.get(seat)?.to ?? seat))];
}

/**
 * The seats delegated for a new approval (or its escalated approvers): those whose delegate may
 * approve it. Stored on the approval as `delegated`, which its cards follow.
 */
export function delegatedSeats(
  approval: Approval,
  seats: string[],
  delegates: Delegates,
): NonNullable<Approval['delegated']> {
  return seats.flatMap((seat) => {
    const delegate = delegates.get(seat);
    const holder = holderOf(approval, seat, delegates);
    return delegate && holder !== seat ? [{ user: seat, name: delegate.name, to: holder }] : [];
  });
}

/**
 * Who an approval's cards went to, by name, for these seats, in a reader's language:
 * `Carol (for Alice)` / `Carol（代 Alice）` where a delegate got one.
 */
export function cardRecipientNames(
  approval: Approval,
  seats: string[],
  nameOf: (user: string) => string,
  language: Language = 'en',
): string[] {
  const delegates = delegatesOnCards(approval);
  return seats.map((seat) => {
    const delegate = delegates.get(seat);
    return delegate
      ? translate(language, 'voterFor', { voter: nameOf(delegate.to), approver: delegate.name })
      : nameOf(seat);
  });
}
