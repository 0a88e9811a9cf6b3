import type { Approval } from '../core/approvals/types.ts';
import { ApprovalCard } from './approval-card.tsx';
import { Layout, type PageContext } from './layout.tsx';
import { waitingOn } from './queries.ts';

/**
 * One approval's confirmation page (`/console/approvals/<id>`), where a chat card whose policy
 * wants a signed-in confirmation sends its approvers: the card, and the decision buttons when
 * the signed-in person may decide it now.
 */
export function ConfirmPage(props: { page: PageContext; approval: Approval; flash?: string }) {
  const { t, as, signedIn } = props.page;
  const a = props.approval;
  const stepUp = a.policy.confirm === 'signed-in';
  const mayDecide =
    as !== undefined && a.status === 'pending' && waitingOn(a, props.page.delegates).includes(as);
  // A step-up approval is decided by a signed-in person only; offering buttons otherwise would
  // just lead to a refusal.
  const canDecide = mayDecide && (!stepUp || signedIn === true);
  return (
    <Layout page={props.page} title={t('confirmTitle')} nav="inbox">
      {props.flash ? (
        <div class="card flash" role="status">
          {props.flash.slice(0, 300)}
        </div>
      ) : null}
      {stepUp ? <p class="card confirm-note">{t('confirmNote')}</p> : null}
      {stepUp && mayDecide && !canDecide ? <p class="card">{t('confirmSignIn')}</p> : null}
      <ApprovalCard
        approval={a}
        t={t}
        {...(props.page.delegates ? { delegates: props.page.delegates } : {})}
        {...(as ? { as } : {})}
        canDecide={canDecide}
      />
    </Layout>
  );
}
