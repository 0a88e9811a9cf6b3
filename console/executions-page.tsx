import { WORKFLOW_KINDS, type WorkflowKind } from '../core/config.ts';
import type { ExecutionBrowse } from './browse-executions.ts';
import { EXECUTION_STATUSES, type ExecutionFilter, filterQuery, OUTCOME_ERRORS } from './filters.ts';
import { executionLink, Layout, type PageContext, Status, Time } from './layout.tsx';

/**
 * Executions of every kind (or one), newest first, filtered by status (or how a FAILED run ended:
 * rejected, cancelled, expired), start date and requester, with previous and next pages.
 */
export function ExecutionsPage(props: {
  page: PageContext;
  /** Undefined: every kind. */
  kind: WorkflowKind | undefined;
  filter: Omit<ExecutionFilter, 'kind' | 'cursor'>;
  result: ExecutionBrowse;
}) {
  const { t } = props.page;
  const f = props.filter;
  const pageLink = (n: number) =>
    `/console/executions${filterQuery({
      kind: props.kind,
      status: f.error ?? f.status,
      since: f.since?.slice(0, 10),
      until: f.until?.slice(0, 10),
      requester: f.requester,
      limit: f.limit === 25 ? undefined : f.limit,
      page: n > 1 ? n : undefined,
    })}`;
  const current = props.result.page;
  const previous = current > 1 ? pageLink(current - 1) : undefined;
  const next = props.result.hasNext ? pageLink(current + 1) : undefined;
  return (
    <Layout page={props.page} title={t('executions')} nav="executions">
      <h2>{t('executions')}</h2>
      <form class="filters" method="get" action="/console/executions">
        <label>
          {t('kind')}
          <select name="kind">
            <option value="" selected={props.kind === undefined}>
              {t('allKinds')}
            </option>
            {WORKFLOW_KINDS.map((k) => (
              <option value={k} selected={k === props.kind}>
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
              <th>{t('kind')}</th>
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
                <td data-label={t('kind')}>{e.kind}</td>
                <td data-label={t('status')}>
                  <Status value={e.status ?? ''} t={t} />
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
      {previous || next ? (
        <p class="pager">
          {previous ? (
            <a class="button" href={previous} rel="prev">
              {t('previous')}
            </a>
          ) : null}
          <span class="muted">{t('pageN', { n: current })}</span>
          {next ? (
            <a class="button" href={next} rel="next">
              {t('next')}
            </a>
          ) : null}
        </p>
      ) : null}
    </Layout>
  );
}
