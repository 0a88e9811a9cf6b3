import { WORKFLOW_KINDS } from '../core/config.ts';
import { EXECUTION_STATUSES, type ExecutionFilter, filterQuery, OUTCOME_ERRORS } from './filters.ts';
import { executionLink, Layout, type PageContext, Status, Time } from './layout.tsx';
import type { ExecutionPage } from './queries.ts';

/**
 * Executions of a kind, filtered by status (or how a FAILED run ended: rejected, cancelled,
 * expired), start date and requester, a page at a time.
 */
export function ExecutionsPage(props: { page: PageContext; filter: ExecutionFilter; result: ExecutionPage }) {
  const { t } = props.page;
  const f = props.filter;
  const next = props.result.cursor
    ? `/console/executions${filterQuery({
        kind: f.kind,
        status: f.error ?? f.status,
        since: f.since?.slice(0, 10),
        until: f.until?.slice(0, 10),
        requester: f.requester,
        cursor: props.result.cursor,
      })}`
    : undefined;
  return (
    <Layout page={props.page} title={t('executions')} nav="executions">
      <h2>{t('executions')}</h2>
      <form class="filters" method="get" action="/console/executions">
        <label>
          {t('kind')}
          <select name="kind">
            {WORKFLOW_KINDS.map((k) => (
              <option value={k} selected={k === f.kind}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('status')}
          <select name="status">
            <option value="">{t('anyStatus')}</option>
            {EXECUTION_STATUSES.map((s) => (
              <option value={s} selected={s === f.status && !f.error}>
                {s}
              </option>
            ))}
            <optgroup label="FAILED">
              {OUTCOME_ERRORS.map((error) => (
                <option value={error} selected={error === f.error}>
                  {error}
                </option>
              ))}
            </optgroup>
          </select>
        </label>
        <label>
          {t('since')}
          <input type="date" name="since" value={f.since?.slice(0, 10) ?? ''} />
        </label>
        <label>
          {t('until')}
          <input type="date" name="until" value={f.until?.slice(0, 10) ?? ''} />
        </label>
        <label>
          {t('requester')}
          <input type="text" name="requester" value={f.requester ?? ''} placeholder="alice" />
        </label>
        <button type="submit">{t('filter')}</button>
      </form>
      {props.result.executions.length === 0 ? <p class="muted">{t('noExecutions')}</p> : null}
      <div class="table-wrap">
        <table class="stack executions">
          <thead>
            <tr>
              <th>{t('name')}</th>
              <th>{t('status')}</th>
              <th>{t('started')}</th>
              <th>{t('stopped')}</th>
            </tr>
          </thead>
          <tbody>
            {props.result.executions.map((e) => (
              <tr data-execution-arn={e.executionArn}>
                <td data-label={t('name')}>
                  <a href={executionLink(e.executionArn ?? '')}>{e.name}</a>
                </td>
                <td data-label={t('status')}>
                  <Status value={e.status ?? ''} />
                  {e.error ? (
                    <span class="execution-error" title={e.cause ?? ''}>
                      {' '}
                      {e.error}
                    </span>
                  ) : null}
                </td>
                <td data-label={t('started')}>
                  <Time value={e.startDate ? new Date(e.startDate) : undefined} />
                </td>
                <td data-label={t('stopped')}>
                  <Time value={e.stopDate ? new Date(e.stopDate) : undefined} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
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
