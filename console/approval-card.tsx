import type { Delegates } from '../core/approvals/seats.ts';
import type { Approval } from '../core/approvals/types.ts';
import { contentIn } from '../core/cards.ts';
import type { Translate } from './i18n.ts';
import { executionLink, Status, Time, WithTime } from './layout.tsx';
import { waitingOn } from './queries.ts';

/** One approval: what it is about, its votes, and (when the acting user may decide) the buttons. */
export function ApprovalCard(props: {
  approval: Approval;
  t: Translate;
  as?: string;
  canDecide?: boolean;
  /** Active delegations: a delegate is waited on in the delegator's place. */
  delegates?: Delegates;
}) {
  const { t } = props;
  const a = props.approval;
  // The card's own words in the page's language, like every other word on it.
  const card = contentIn(a, t.language);
  const approvals = a.votes.filter((v) => v.decision === 'approve').length;
  const action = `/console/approvals/${encodeURIComponent(a.approvalId)}/decide`;
  return (
    <section class="card approval" data-approval-id={a.approvalId} data-status={a.status}>
      <h3>{card.title}</h3>
      {card.summary ? <p>{card.summary}</p> : null}
      <dl>
        {card.fields.map((f) => (
          <>
            <dt>{f.label}</dt>
            <dd>{f.value}</dd>
          </>
        ))}
        <dt>{t('requestedBy')}</dt>
        <dd>{a.requester.name}</dd>
        <dt>{t('status')}</dt>
        <dd>
          <Status value={a.status} t={t} />
          {a.status === 'pending' ? ` · ${t('approvalsOf', { n: approvals, m: a.policy.required })}` : ''}
          {a.reason ? ` · ${a.reason}` : ''}
        </dd>
        {a.status === 'pending' ? (
          <>
            <dt>{t('approvers')}</dt>
            <dd>
              <WithTime
                text={(since) =>
                  t('waitingOn', { who: waitingOn(a, props.delegates).join(', ') || '—', since })
                }
                value={a.createdAt}
              />
            </dd>
          </>
        ) : null}
        {a.votes.length > 0 ? (
          <>
            <dt>{t('votes')}</dt>
            <dd>
              {a.votes.map((v) => (
                <div class="vote">
                  {`${v.actor.name}: ${t(v.decision === 'approve' ? 'verbApprove' : 'verbReject')}${v.comment ? ` (“${v.comment}”)` : ''} · `}
                  <Time value={v.at} />
                </div>
              ))}
            </dd>
          </>
        ) : null}
        {a.decidedAt ? (
          <>
            <dt>{t('decidedBy')}</dt>
            <dd class="decided-by">
              {a.votes
                .filter((v) => (a.status === 'rejected' ? v.decision === 'reject' : v.decision === 'approve'))
                .map((v) => v.actor.name)
                .join(', ') || '—'}
            </dd>
            <dt>{t('decidedAt')}</dt>
            <dd>
              <Time value={a.decidedAt} />
            </dd>
          </>
        ) : null}
        <dt>{t('links')}</dt>
        <dd>
          {card.links.map((l) => (
            <div>
              <a href={l.url}>{l.label}</a>
            </div>
          ))}
          <a href={executionLink(a.executionArn)}>{t('historyHere')}</a>
          <div>
            <a class="approval-page" href={`/console/approvals/${encodeURIComponent(a.approvalId)}`}>
              {t('approvalPageLink')}
            </a>
          </div>
        </dd>
      </dl>
      {a.status === 'pending' && props.as !== undefined && props.as === a.requester.user ? (
        // The requester's own request: ask again (once per 15 minutes), or withdraw it.
        <div class="requester">
          <form
            class="inline"
            method="post"
            action={`/console/approvals/${encodeURIComponent(a.approvalId)}/nudge`}
          >
            <input type="hidden" name="actor" value={props.as} />
            <button class="nudge" type="submit">
              {t('remindApprovers')}
            </button>
          </form>
          <form
            class="inline"
            method="post"
            action={`/console/approvals/${encodeURIComponent(a.approvalId)}/cancel`}
          >
            <input type="hidden" name="actor" value={props.as} />
            <input
              type="text"
              name="reason"
              placeholder={t('reasonOptional')}
              maxlength={500}
              aria-label={t('reason')}
            />
            <button class="withdraw" type="submit">
              {t('withdrawRequest')}
            </button>
          </form>
        </div>
      ) : null}
      {a.status === 'pending' && props.canDecide ? (
        <div class="decide">
          <form class="inline" method="post" action={action}>
            <input type="hidden" name="actor" value={props.as ?? ''} />
            <input type="hidden" name="decision" value="approve" />
            <button class="approve" type="submit">
              {t('approve')}
            </button>
          </form>
          <form class="inline" method="post" action={action}>
            <input type="hidden" name="actor" value={props.as ?? ''} />
            <input type="hidden" name="decision" value="reject" />
            <input
              type="text"
              name="comment"
              placeholder={t('reasonOptional')}
              maxlength={2000}
              aria-label={t('reason')}
            />
            <button class="reject" type="submit">
              {t('reject')}
            </button>
          </form>
        </div>
      ) : null}
    </section>
  );
}
