import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '../../fixtures/line');

/** One webhook body from test/fixtures/line/line_webhook_examples.json. */
export function example(name: string): { destination: string; events: Array<Record<string, unknown>> } {
  const file = JSON.parse(readFileSync(join(DIR, 'line_webhook_examples.json'), 'utf8')) as {
    examples: Record<string, { destination: string; events: Array<Record<string, unknown>> }>;
  };
  const body = file.examples[name];
  if (!body) throw new Error(`no LINE example ${name}`);
  return body;
}

export interface SignatureVector {
  name: string;
  channelSecret: string;
  body: string;
  signature: string;
}

export function signatureVectors(): SignatureVector[] {
  return (
    JSON.parse(readFileSync(join(DIR, 'line_signature_vectors.json'), 'utf8')) as {
      vectors: SignatureVector[];
    }
  ).vectors;
}
