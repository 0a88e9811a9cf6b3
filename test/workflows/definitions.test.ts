import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkflowKind } from '../../core/config.ts';
import { lintDefinition } from '../../local/engine/index.ts';
import { tasks } from '../../tasks/index.ts';
import { placeholdersOf, readDefinition, substitute, taskNameOf, workflows } from '../../workflows/index.ts';

const kinds = readdirSync(join(import.meta.dirname, '../../workflows'))
  .filter((name) => name.endsWith('.asl.json'))
  .map((name) => name.replace('.asl.json', '') as WorkflowKind);

describe('workflow definitions', () => {
  it('has a workflow module for every ASL file', () => {
    expect(kinds.length).toBeGreaterThan(0);
    for (const kind of kinds) expect(workflows[kind], kind).toBeDefined();
  });

  for (const kind of kinds) {
    describe(kind, () => {
      const definition = readDefinition(kind);

      it('names a task for every …Arn placeholder', () => {
        const placeholders = placeholdersOf(definition);
        expect(placeholders.length).toBeGreaterThan(0);
        for (const placeholder of placeholders)
          expect(tasks[taskNameOf(placeholder)], placeholder).toBeDefined();
      });

      it('passes the local-engine lint (JSONPath only, timeouts on waits, waits at top level)', () => {
        const resolved = substitute(
          definition,
          (task) => `arn:aws:lambda:us-east-1:123456789012:function:signoff-${task}`,
        );
        expect(lintDefinition(resolved)).toEqual([]);
      });
    });
  }

  it('maps placeholders to task names with one rule', () => {
    expect(taskNameOf('RequestApprovalArn')).toBe('request-approval');
    expect(taskNameOf('NotifyArn')).toBe('notify');
  });
});
