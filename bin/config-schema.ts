import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../core/config.ts';

/** Where the generated schema is published; a test fails when it differs from configJsonSchema(). */
export const SCHEMA_PATH = fileURLToPath(new URL('../docs/signoff.config.schema.json', import.meta.url));

/** The committed file's exact text: two-space JSON and a final newline. */
export function configSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

// `npm run schema`: regenerate docs/signoff.config.schema.json after changing core/config.ts.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_PATH, configSchemaText());
  process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
}
