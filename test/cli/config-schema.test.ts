import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { configSchemaText, SCHEMA_PATH } from '../../bin/config-schema.ts';
import { DEFAULT_CONFIG_INPUT } from '../../core/config.ts';

const committed = () => readFileSync(SCHEMA_PATH, 'utf8');

/** The committed schema, compiled as an editor would (draft 2020-12, formats as annotations). */
function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(JSON.parse(committed()));
}

describe('docs/signoff.config.schema.json', () => {
  it('is what z.toJSONSchema makes of ConfigSchema (run `npm run schema` after changing core/config.ts)', () => {
    expect(committed()).toBe(configSchemaText());
  });

  it('accepts the default configuration with a $schema key pointing at it', () => {
    const validate = validator();
    const file = { $schema: './docs/signoff.config.schema.json', ...DEFAULT_CONFIG_INPUT };
    expect(validate(file), JSON.stringify(validate.errors)).toBe(true);
  });

  it('accepts a configuration with only the merge-request policy', () => {
    const validate = validator();
    const { users } = DEFAULT_CONFIG_INPUT;
    const file = { users, policies: { 'merge-request': { approvers: ['bob'] } } };
    expect(validate(file), JSON.stringify(validate.errors)).toBe(true);
  });

  it('refuses what Signoff refuses: a typo, an unknown policy kind, a bad user key, a missing users', () => {
    const validate = validator();
    const { users, policies } = DEFAULT_CONFIG_INPUT;
    expect(validate({ users, policies, maxBodyByte: 2048 })).toBe(false);
    expect(validate({ users, policies: { ...policies, merge: policies['merge-request'] } })).toBe(false);
    expect(validate({ users: { Bob: { name: 'Bob' } }, policies })).toBe(false);
    expect(validate({ policies })).toBe(false);
  });
});
