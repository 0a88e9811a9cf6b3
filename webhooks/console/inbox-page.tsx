import type { Approval } from '../../core/approvals/types.ts';
import type { Notification } from '../../core/notifications.ts';
import type { DemoHooks } from '../deps.ts';
import { ApprovalCard } from './approval-card.tsx';
import { Layout, type PageContext } from './layout.tsx';
import { approvalsFor } from './queries.ts';

export interface InboxData {
  users: Array<[key: string, name: string]>;
  pending: Approval[];
  decided: Approval[];
  notifications: Notification[];
  flash?: string;
  demo?: DemoHooks;
}

/** The approvals inbox: what waits for the acting user, what else is pending, what was decided. */
export function InboxPage(props: { page: PageContext; data: InboxData }) {
  const { t, as } = props.page;
  const { pending, decided, notifications, flash, demo } = props.data;
  const mine = as ? approvalsFor(as, pending) : [];
  const mineIds = new Set(mine.map((a) => a.approvalId));
  const others = pending.filter((a) => !mineIds.has(a.approvalId));
  return (
    <Layout page={props.page} title={t('approvals')} nav="inbox">
      {flash ? (
        <div class="card flash" role="status">
          {flash.slice(0, 300)}
        </div>
      ) : null}
      <form class="inline" method="get" action="/console">
        <label>
          {`${t('actingAs')} `}
          <select name="as" aria-label={t('actingAs')}>
            <option value="">{t('chooseUser')}</option>
            {props.data.users.map(([key, name]) => (
              <option value={key} selected={key === as}>{`${name} (${key})`}</option>
            ))}
          </select>
        </label>
        <button type="submit">{t('switch')}</button>
      </form>
      {demo ? (
        <section class="card standin">
          <h3>{t('demo')}</h3>
          <p>
            {`${t('demoText')} `}
            <a href={demo.gitlabUrl}>{demo.gitlabUrl}</a>. {t('demoHint')}
          </p>
          <form class="inline" method="post" action="/console/demo/merge-request">
            <input
              type="text"
              name="title"
              placeholder={t('mrTitle')}
              maxlength={200}
              aria-label={t('mrTitle')}
            />
            <button type="submit">{t('simulate')}</button>
          </form>
        </section>
      ) : null}
      {notifications.length > 0 ? (
        <section class="card">
          <h3>{t('yourNotifications')}</h3>
          {notifications.map((n) => (
            <div>
              <span class="muted">{n.at}</span> {n.text}
            </div>
          ))}
        </section>
      ) : null}
      {as ? (
        <>
          <h2 id="mine">{`${t('waitingForYou')} (${mine.length})`}</h2>
          {mine.length === 0 ? <p class="muted">{t('nothingForYou')}</p> : null}
          {mine.map((a) => (
            <ApprovalCard approval={a} t={t} as={as} canDecide />
          ))}
          <h2>{`${t('otherPending')} (${others.length})`}</h2>
          {others.map((a) => (
            <ApprovalCard approval={a} t={t} />
          ))}
        </>
      ) : (
        <>
          <h2>{`${t('pendingApprovals')} (${pending.length})`}</h2>
          {pending.length === 0 ? (
            <p class="muted">{t('nothingWaits')}</p>
          ) : (
            <p class="muted">{t('chooseWho')}</p>
          )}
          {pending.map((a) => (
            <ApprovalCard approval={a} t={t} />
          ))}
        </>
      )}
      <h2>{t('recentlyDecided')}</h2>
      {decided.map((a) => (
        <ApprovalCard approval={a} t={t} />
      ))}
    </Layout>
  );
}
