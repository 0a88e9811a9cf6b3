import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, WORKFLOW_KINDS } from '../../core/config.ts';

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
}

/** What a record's keys are called in the docs: `users.<key>`, `releases.<name>`. */
const RECORD_KEYS: Record<string, string> = { users: '<key>', releases: '<name>', overrides: '<scope>' };
const KINDS = new Set<string>(WORKFLOW_KINDS);

/**
 * Every field path of the schema down to three levels (`console.oidc.issuer`,
 * `policies.<kind>.chats`), each policy kind written `<kind>`.
 */
function schemaFields(schema: JsonSchema, prefix: string[] = []): string[] {
  if (prefix.length >= 3) return [];
  const fields: string[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const name = prefix[0] === 'policies' && prefix.length === 1 && KINDS.has(key) ? '<kind>' : key;
    const path = [...prefix, name];
    fields.push(path.join('.'));
    fields.push(...schemaFields(child, path));
  }
  const record = schema.additionalProperties;
  const last = prefix.at(-1);
  if (record && typeof record === 'object' && last && RECORD_KEYS[last]) {
    const path = [...prefix, RECORD_KEYS[last]];
    fields.push(...schemaFields(record, path));
  }
  return [...new Set(fields)];
}

/**
 * The fields the "Fields" table of docs/configuration.md names: every backticked path in a row's
 * first cell, a policy kind (`policies.merge-request.x`) read as `<kind>`.
 */
function documentedFields(markdown: string): Set<string> {
  const section = markdown.split('### Fields')[1]?.split('\n## ')[0] ?? '';
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    const cell = line.startsWith('| `') ? line.split(' | ')[0] : undefined;
    for (const [, name = ''] of cell?.matchAll(/`([^`]+)`/g) ?? []) {
      names.add(
        name.replace(/^policies\.(merge-request|deploy|rollback|support-case|release)\b/, 'policies.<kind>'),
      );
    }
  }
  return names;
}

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

describe('docs/configuration.md', () => {
  const fields = schemaFields(configJsonSchema() as JsonSchema);

  it('reads the schema deep enough to check the fields that matter', () => {
    expect(fields).toEqual(
      expect.arrayContaining([
        'users.<key>.lark',
        'policies.<kind>.chats',
        'console.oidc.issuer',
        'releases.<name>.ref',
      ]),
    );
  });

  it('documents every field of the configuration schema in its Fields table', () => {
    const documented = documentedFields(doc);
    expect(fields.filter((field) => !documented.has(field))).toEqual([]);
  });

  it('documents no field the schema does not have', () => {
    const known = new Set([...fields, 'policies.<kind>.overrides.<scope>']);
    expect([...documentedFields(doc)].filter((name) => !known.has(name))).toEqual([]);
  });

  it.each([
    'LARK_',
    'LINE_',
    'SLACK_',
    'DINGTALK_',
    'SIGNOFF_TABLE',
    'SIGNOFF_DYNAMODB_URL',
    'SIGNOFF_SESSION_KEY',
    'SIGNOFF_OIDC_CLIENT_SECRET',
  ])('documents the environment variable %s', (name) => {
    expect(doc).toMatch(new RegExp(`\\| \`${name}`));
  });
});
