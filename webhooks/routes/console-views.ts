import type { DescribeExecutionCommandOutput, HistoryEvent } from '@aws-sdk/client-sfn';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { AppDeps } from '../deps.ts';

export interface ExecutionView {
  execution: DescribeExecutionCommandOutput;
  history: HistoryEvent[];
  approvals: Approval[];
  audit: AuditRecord[];
}

/** One execution with its history, approvals and audit, read through the Step Functions API. */
export async function executionView(deps: AppDeps, executionArn: string): Promise<ExecutionView> {
  if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(executionArn)) {
    throw new NotFoundError('not an execution ARN', { code: 'ExecutionNotFound' });
  }
  const execution = await deps.engine.describe(executionArn);
  if (!execution) throw new NotFoundError('no such execution', { code: 'ExecutionNotFound' });
  const [history, approvals, audit] = await Promise.all([
    deps.engine.history(executionArn),
    deps.store.forExecution(executionArn),
    deps.audit.byExecution(executionArn),
  ]);
  return { execution, history, approvals, audit };
}

const TOKEN_FIELD = /("taskToken"\s*:\s*)"(?:[^"\\]|\\.)*"/g;

/** Task tokens appear in TaskScheduled parameters; the console never shows them. */
export function redactHistory(history: HistoryEvent[]): HistoryEvent[] {
  return history.map((event) => {
    const copy: Record<string, unknown> = { ...event };
    for (const [key, details] of Object.entries(copy)) {
      if (!key.endsWith('EventDetails') || !details || typeof details !== 'object') continue;
      const redacted: Record<string, unknown> = { ...(details as Record<string, unknown>) };
      for (const [field, value] of Object.entries(redacted)) {
        if (typeof value === 'string') redacted[field] = redactJson(value);
      }
      copy[key] = redacted;
    }
    return copy as unknown as HistoryEvent;
  });
}

/** The same redaction for one JSON string (a parameters or input field). */
export function redactJson(text: string | undefined): string | undefined {
  return text?.replace(TOKEN_FIELD, '$1"[redacted]"');
}
