import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

/** Which top-level folders each folder may import (design §2, style §2). */
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  chat: ['chat', 'core'],
  integrations: ['integrations', 'core'],
  workflows: ['workflows', 'core'],
  tasks: ['tasks', 'core', 'workflows', 'chat', 'integrations'],
  webhooks: ['webhooks', 'core', 'workflows', 'chat'],
};

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
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map(
    (m) => m[1] as string,
  );
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
});
