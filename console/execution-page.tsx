import type { AuditRecord } from '../core/audit.ts';
import { contentIn } from '../core/cards.ts';
import { ApprovalCard } from './approval-card.tsx';
import { WorkflowGraph } from './graph.tsx';
import type { Translate } from './i18n.ts';
import { executionLink, Layout, type PageContext, Status, Time, WithTime } from './layout.tsx';
import { type ExecutionDetails, waitingOn } from './queries.ts';
import { Timeline } from './timeline.tsx';

/** Polls the live part of the page while the execution runs; stops once it has ended. */
const LIVE_SCRIPT = `
(function(){
  var live=document.getElementById('live');
  if(!live)return;
  function tick(){
    if(live.getAttribute('data-status')!=='RUNNING')return;
    fetch(location.pathname+'?partial=1',{headers:{accept:'text/html'}}).then(function(r){
      if(!r.ok)throw new Error(String(r.status));return r.text();
    }).then(function(html){
      var open=[].map.call(live.querySelectorAll('details[open]'),function(d){return d.closest('tr')&&d.closest('tr').querySelector('td').textContent});
      var box=document.createElement('div');box.innerHTML=html;
      var next=box.querySelector('#live');
      if(next){live.innerHTML=next.innerHTML;live.setAttribute('data-status',next.getAttribute('data-status')||'');}
      [].forEach.call(live.querySelectorAll('details'),function(d){var row=d.closest('tr');if(row&&open.indexOf(row.querySelector('td').textContent)>=0)d.open=true;});
    }).catch(function(){}).then(function(){setTimeout(tick,1500);});
  }
  setTimeout(tick,1500);
})();
`;

export function AuditTable(props: { records: AuditRecord[]; t: Translate }) {
  const { t } = props;
  return (
    <div class="table-wrap">
      <table class="stack audit">
        <thead>
          <tr>
            <th>{t('time')}</th>
            <th>{t('kind')}</th>
            <th>{t('action')}</th>
            <th>{t('actor')}</th>
            <th>{t('outcome')}</th>
            <th>{t('execution')}</th>
          </tr>
        </thead>
        <tbody>
          {props.records.map((r) => (
            <tr data-id={r.id}>
              <td data-label={t('time')}>
                <Time value={r.at} />
              </td>
              <td data-label={t('kind')}>{r.kind}</td>
              <td data-label={t('action')}>{r.action}</td>
              <td data-label={t('actor')}>{`${r.actor.name} (${r.actor.platform}:${r.actor.id})`}</td>
              <td data-label={t('outcome')}>
                <Status value={r.outcome} t={t} />
              </td>
              <td data-label={t('execution')}>
                <a href={executionLink(r.executionArn)}>{r.executionArn.split(':').pop()}</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The live part: status, who is waited on, the graph and the timeline. */
export function ExecutionLive(props: { details: ExecutionDetails; t: Translate; as?: string }) {
  const { t, as } = props;
  const { execution: e, approvals, audit, history, definition, states } = props.details;
  const running = e.status === 'RUNNING';
  const pending = approvals.filter((a) => a.status === 'pending');
  return (
    <div id="live" data-status={e.status ?? ''}>
      <section class="card">
        <dl>
          <dt>{t('status')}</dt>
          <dd>
            <Status value={e.status ?? ''} t={t} />{' '}
            {running ? <span class="live">{`· ${t('liveRefresh')}`}</span> : null}
          </dd>
          <dt>{t('stateMachine')}</dt>
          <dd>{e.stateMachineArn}</dd>
          <dt>{t('started')}</dt>
          <dd>
            <Time value={e.startDate ? new Date(e.startDate) : undefined} />
          </dd>
          {e.stopDate ? (
            <>
              <dt>{t('stopped')}</dt>
              <dd>
                <Time value={new Date(e.stopDate)} />
              </dd>
            </>
          ) : null}
          {e.error ? (
            <>
              <dt>{t('error')}</dt>
              <dd>{`${e.error}: ${e.cause ?? ''}`}</dd>
            </>
          ) : null}
        </dl>
      </section>
      {running
        ? pending.map((a) => (
            <section class="card waiting" data-waiting-approval={a.approvalId}>
              <strong>{contentIn(a, t.language).title}</strong>
              <div>
                <WithTime
                  text={(since) => t('waitingOn', { who: waitingOn(a).join(', ') || '—', since })}
                  value={a.createdAt}
                />
              </div>
            </section>
          ))
        : null}
      <section>
        <h3>{t('graph')}</h3>
        {definition ? (
          <WorkflowGraph definition={definition} statuses={states} history={history} t={t} />
        ) : null}
      </section>
      <section>
        <h3>{t('timeline')}</h3>
        <Timeline history={history} t={t} />
      </section>
      {approvals.map((a) => (
        <ApprovalCard approval={a} t={t} {...(as ? { as } : {})} />
      ))}
      <h3>{t('audit')}</h3>
      <AuditTable records={audit} t={t} />
    </div>
  );
}

/** One execution: live status, graph and timeline, approvals, audit. */
export function ExecutionPage(props: { page: PageContext; details: ExecutionDetails }) {
  const { t, as } = props.page;
  const { execution: e } = props.details;
  return (
    <Layout
      page={props.page}
      title={e.name ?? t('execution')}
      nav="executions"
      {...(e.status === 'RUNNING' ? { script: LIVE_SCRIPT } : {})}
    >
      <h2>{e.name}</h2>
      <ExecutionLive details={props.details} t={t} {...(as ? { as } : {})} />
    </Layout>
  );
}
