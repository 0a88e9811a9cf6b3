import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { taskEntry, webhookEntry } from '../cdk/bundling.ts';
import { TASK_ACCESS } from '../cdk/task-access.ts';

const ROOT = join(import.meta.dirname, '..');

/** Which top-level folders each folder may import (design §2, style §2). */
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  chat: ['chat', 'core'],
  integrations: ['integrations', 'core'],
  workflows: ['workflows', 'core'],
  tasks: ['tasks', 'core', 'workflows', 'chat', 'integrations'],
  webhooks: ['webhooks', 'core', 'workflows', 'chat'],
  // A surface of its own: its routes use the app's plumbing and the chat commands (webhooks/).
  console: ['console', 'core', 'workflows', 'chat', 'webhooks'],
  // The CLI: the use cases (core/), and the console's queries and formats; no route module.
  bin: ['bin', 'core', 'workflows', 'chat', 'console'],
};

/** Route modules: mounted by an app, never imported by the CLI. */
const ROUTE_MODULES = [/^webhooks\//, /^console\/(api|commands|pages|guard|index)\.tsx?$/];

/** Platform SDKs live only in chat/ and integrations/. */
const PLATFORM_SDKS = [
  '@larksuiteoapi/',
  '@line/bot-sdk',
  '@gitbeaker/',
  '@slack/',
  '@aws-sdk/client-support',
  '@aws-sdk/client-lambda',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const statics = text.matchAll(
    /^\s*(?:import\s+(?:[^'"]*?\s+from\s+)?|export\s+[^'"]*?\s+from\s+)['"]([^'"]+)['"]/gm,
  );
  const dynamics = text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]/g);
  return [...statics, ...dynamics].map((m) => m[1] as string);
}

describe('dependency direction', () => {
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    it(`${folder}/ imports only ${allowed.join(', ')}`, () => {
      const wrong: string[] = [];
      for (const file of sourceFiles(join(ROOT, folder))) {
        for (const spec of imports(file)) {
          if (spec.startsWith('.')) {
            const target = relative(ROOT, join(file, '..', spec)).split(sep)[0] ?? '';
            if (!allowed.includes(target)) wrong.push(`${relative(ROOT, file)} → ${spec}`);
          } else if (
            !['chat', 'integrations'].includes(folder) &&
            PLATFORM_SDKS.some((sdk) => spec.startsWith(sdk))
          ) {
            wrong.push(`${relative(ROOT, file)} → ${spec} (platform SDKs stay in chat/ and integrations/)`);
          }
        }
      }
      expect(wrong).toEqual([]);
    });
  }

  it('nothing imports local/ or cdk/ except local/, test/ and bench/', () => {
    const wrong: string[] = [];
    for (const folder of Object.keys(ALLOWED)) {
      for (const file of sourceFiles(join(ROOT, folder))) {
        for (const spec of imports(file)) {
          if (/(^|\/)(local|cdk)\//.test(spec) && spec.startsWith('.'))
            wrong.push(`${relative(ROOT, file)} → ${spec}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('only core/engine.ts uses the Step Functions client outside local/', () => {
    const users = Object.keys(ALLOWED)
      .flatMap((folder) => sourceFiles(join(ROOT, folder)))
      .filter((file) => imports(file).some((spec) => spec === '@aws-sdk/client-sfn'))
      .filter(
        (file) => !readFileSync(file, 'utf8').match(/import type \{[^}]*\} from '@aws-sdk\/client-sfn'/),
      )
      .map((file) => relative(ROOT, file));
    expect(users).toEqual(['core/engine.ts']);
  });

  it('bin/ imports no route module', () => {
    const wrong: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'bin'))) {
      for (const spec of imports(file)) {
        const target = relative(ROOT, join(file, '..', spec));
        if (spec.startsWith('.') && ROUTE_MODULES.some((route) => route.test(target)))
          wrong.push(`${relative(ROOT, file)} → ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('nothing outside test/ imports test/ (the demo stand-ins are product code, in local/demo/)', () => {
    const wrong: string[] = [];
    for (const folder of [...Object.keys(ALLOWED), 'local', 'cdk']) {
      for (const file of sourceFiles(join(ROOT, folder))) {
        for (const spec of imports(file)) {
          if (spec.startsWith('.') && relative(ROOT, join(file, '..', spec)).startsWith(`test${sep}`))
            wrong.push(`${relative(ROOT, file)} → ${spec}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the entries cdk/bundling.ts writes for the functions import only what each function may hold', () => {
    const allClients = { gitlab: true, chat: true, lambda: true, support: true };
    const entries = [
      ...Object.keys(TASK_ACCESS).map((task) => ({
        allowed: ['tasks', 'integrations', 'chat'],
        path: taskEntry(task, allClients),
      })),
      { allowed: ['webhooks', 'console', 'integrations'], path: webhookEntry() },
    ];
    const wrong: string[] = [];
    for (const { allowed, path } of entries) {
      const text = readFileSync(path, 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1] as string;
        if (!spec.startsWith('.')) continue;
        const target = relative(ROOT, join(path, '..', spec)).split(sep)[0] ?? '';
        if (!allowed.includes(target)) wrong.push(`${relative(ROOT, path)} → ${spec}`);
      }
    }
    expect(entries.length).toBeGreaterThan(5);
    expect(wrong).toEqual([]);
  });
});
