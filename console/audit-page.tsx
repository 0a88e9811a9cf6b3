import type { AuditFilter, AuditPage } from '../core/audit.ts';
import { WORKFLOW_KINDS } from '../core/config.ts';
import { AuditTable } from './execution-page.tsx';
import { filterQuery } from './filters.ts';
import { Layout, type PageContext } from './layout.tsx';

const OUTCOMES = [
  'started',
  'pending',
  'approve',
  'reject',
  'approved',
  'rejected',
  'expired',
  'cancelled',
  'merged',
  'closed',
  'failed',
];

/** The filter as query values (for links: next page, exports). */
export function auditFilterValues(f: AuditFilter): Record<string, string | undefined> {
  return {
    kind: f.kind,
    actor: f.actor,
    action: f.action,
    outcome: f.outcome,
    since: f.since,
    until: f.until,
    execution: f.execution,
  };
}

/** Audit records filtered by kind, actor, action, outcome and dates; export exactly those. */
export function AuditPageView(props: { page: PageContext; filter: AuditFilter; result: AuditPage }) {
  const { t } = props.page;
  const f = props.filter;
  const values = auditFilterValues(f);
  const next = props.result.cursor
    ? `/console/audit${filterQuery({ ...values, cursor: props.result.cursor })}`
    : undefined;
  const date = (value: string | undefined) => value?.slice(0, 10) ?? '';
  return (
    <Layout page={props.page} title={t('audit')} nav="audit">
      <h2>{t('audit')}</h2>
      <form class="filters" method="get" action="/console/audit">
        <label>
          {t('kind')}
          <select name="kind">
            <option value="">{t('allKinds')}</option>
            {WORKFLOW_KINDS.map((k) => (
              <option value={k} selected={k === f.kind}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('actor')}
          <input type="text" name="actor" value={f.actor ?? ''} placeholder="bob" />
        </label>
        <label>
          {t('action')}
          <input type="text" name="action" value={f.action ?? ''} placeholder="approval.vote" />
        </label>
        <label>
          {t('outcome')}
          <select name="outcome">
            <option value="">{t('anyOutcome')}</option>
            {[...new Set([...OUTCOMES, ...(f.outcome ? [f.outcome] : [])])].map((o) => (
              <option value={o} selected={o === f.outcome}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('since')}
          <input type="date" name="since" value={date(f.since)} />
        </label>
        <label>
          {t('until')}
          <input type="date" name="until" value={date(f.until)} />
        </label>
        {f.execution ? <input type="hidden" name="execution" value={f.execution} /> : null}
        <button type="submit">{t('filter')}</button>
      </form>
      <p class="pager">
        <a
          class="button export-csv"
          href={`/console/api/audit/export${filterQuery({ ...values, format: 'csv' })}`}
          download
        >
          {t('exportCsv')}
        </a>
        <a
          class="button export-json"
          href={`/console/api/audit/export${filterQuery({ ...values, format: 'json' })}`}
          download
        >
          {t('exportJson')}
        </a>
      </p>
      {props.result.records.length === 0 ? <p class="muted">{t('noRecords')}</p> : null}
      <AuditTable records={props.result.records} t={t} />
      {next ? (
        <p class="pager">
          <a class="button" href={next} rel="next">
            {t('next')}
          </a>
        </p>
      ) : null}
    </Layout>
  );
}
