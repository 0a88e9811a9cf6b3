import type { Approval } from '../core/approvals/types.ts';
import type { Notice } from '../core/chat.ts';
import { randomId } from '../core/ids.ts';
import type { Notification } from '../core/notifications.ts';
import type { DemoHooks } from '../webhooks/deps.ts';
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
  /** The answer to a command typed in the console (its choices become buttons). */
  notice?: Notice;
}

/** The approvals inbox: what waits for the acting user, what else is pending, what was decided. */
export function InboxPage(props: { page: PageContext; data: InboxData }) {
  const { t, as } = props.page;
  const { pending, decided, notifications, flash, demo, notice } = props.data;
  const mine = as ? approvalsFor(as, pending, props.page.delegates) : [];
  const mineIds = new Set(mine.map((a) => a.approvalId));
  const others = pending.filter((a) => !mineIds.has(a.approvalId));
  return (
    <Layout page={props.page} title={t('approvals')} nav="inbox">
      {flash ? (
        <div class="card flash" role="status">
          {flash.slice(0, 300)}
        </div>
      ) : null}
      {props.page.demo ? (
        <form class="inline" method="get" action="/console">
          <span class="muted">{t('demoPicker')}</span>
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
      ) : null}
      {as ? <CommandBox as={as} t={t} notice={notice} /> : null}
      {demo ? (
        <section class="card standin">
          <h3>{t('demo')}</h3>
          <p>
            {`${t('demoText')} `}
            <a href={demo.gitlabUrl}>{demo.gitlabUrl}</a>. {t('demoHint')}
          </p>
          {(demo.standIns ?? []).map((standIn) => (
            <p>
              {`${standIn.label}: `}
              <a href={standIn.url}>{standIn.url}</a>
            </p>
          ))}
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
            <ApprovalCard
              approval={a}
              t={t}
              {...(props.page.delegates ? { delegates: props.page.delegates } : {})}
              as={as}
              canDecide
            />
          ))}
          <h2>{`${t('otherPending')} (${others.length})`}</h2>
          {others.map((a) => (
            <ApprovalCard
              approval={a}
              t={t}
              {...(props.page.delegates ? { delegates: props.page.delegates } : {})}
            />
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
            <ApprovalCard
              approval={a}
              t={t}
              {...(props.page.delegates ? { delegates: props.page.delegates } : {})}
            />
          ))}
        </>
      )}
      <h2>{t('recentlyDecided')}</h2>
      {decided.map((a) => (
        <ApprovalCard
          approval={a}
          t={t}
          {...(props.page.delegates ? { delegates: props.page.delegates } : {})}
        />
      ))}
    </Layout>
  );
}

/**
 * The console as a chat platform: a command typed here runs exactly as in Lark or LINE, as the
 * acting user. A hidden event id makes a resubmitted form idempotent (like a chat event id).
 */
function CommandBox(props: { as: string; t: PageContext['t']; notice: Notice | undefined }) {
  const { as, t, notice } = props;
  const form = (text: string | undefined, label: string) => (
    <form class="inline" method="post" action="/console/commands">
      <input type="hidden" name="actor" value={as} />
      <input type="hidden" name="eventId" value={randomId()} />
      {text === undefined ? (
        <textarea name="text" rows={2} cols={48} maxlength={4000} aria-label={t('commands')} required />
      ) : (
        <input type="hidden" name="text" value={text} />
      )}
      <button type="submit">{label}</button>
    </form>
  );
  return (
    <section class="card" data-section="commands">
      <h3>{t('commands')}</h3>
      {notice ? (
        <div class="card" role="status" data-notice>
          {notice.title ? <strong>{notice.title}</strong> : null}
          <pre style="white-space:pre-wrap;margin:.3rem 0">{notice.text}</pre>
          {(notice.choices ?? []).map((choice) => form(choice.command, choice.label))}
          {(notice.links ?? []).map((link) => (
            <div>
              <a href={link.url}>{link.label}</a>
            </div>
          ))}
        </div>
      ) : null}
      <p class="muted">{t('commandHint')}</p>
      {form(undefined, t('send'))}
    </section>
  );
}
