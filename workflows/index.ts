import { readFileSync } from 'node:fs';
import type { WorkflowKind } from '../core/config.ts';
import type { MachineName } from '../core/engine.ts';
import type { WorkflowModule } from '../core/workflow.ts';
import { deployWorkflow } from './deploy.ts';
import { mergeRequestWorkflow } from './merge-request.ts';
import { releaseWorkflow } from './release.ts';
import { rollbackWorkflow } from './rollback.ts';
import { supportCaseWorkflow } from './support-case.ts';

/** The workflow kinds that have a state machine today. */
export const workflows: Partial<Record<WorkflowKind, WorkflowModule>> = {
  'merge-request': mergeRequestWorkflow as unknown as WorkflowModule,
  deploy: deployWorkflow as unknown as WorkflowModule,
  rollback: rollbackWorkflow as unknown as WorkflowModule,
  'support-case': supportCaseWorkflow as unknown as WorkflowModule,
  release: releaseWorkflow as unknown as WorkflowModule,
};

/**
 * Every state machine to deploy: each workflow, and `reminders` (one execution per approval
 * whose policy has `remind` or `escalate`: Wait → remind → Wait → escalate; docs/reminders.md).
 */
export const STATE_MACHINES: MachineName[] = [...(Object.keys(workflows) as WorkflowKind[]), 'reminders'];

/** A state machine's ASL definition as text, with `${Placeholders}` still in it. */
export function readDefinition(kind: MachineName): string {
  return readFileSync(new URL(`./${kind}.asl.json`, import.meta.url), 'utf8');
}

/**
 * `${RequestApprovalArn}` → `request-approval`: the naming rule CDK and the local engine share
 * (docs/architecture.md, "One name per task"; test/workflows/definitions.test.ts checks every state).
 */
export function taskNameOf(placeholder: string): string {
  return placeholder
    .replace(/Arn$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/** Every `${…Arn}` placeholder in a definition. */
export function placeholdersOf(definition: string): string[] {
  return [...new Set([...definition.matchAll(/\$\{([A-Za-z0-9]+Arn)\}/g)].map((m) => m[1] as string))];
}

/** Replace each `${XArn}` with `arnFor(taskNameOf('XArn'))`. */
export function substitute(definition: string, arnFor: (task: string) => string): string {
  return definition.replace(/\$\{([A-Za-z0-9]+Arn)\}/g, (_, placeholder: string) =>
    arnFor(taskNameOf(placeholder)),
  );
}
