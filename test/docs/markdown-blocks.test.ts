import { describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocks, consoleCommands, shellCommands } from './markdown-blocks.ts';

const block = (lang: string, text: string): CodeBlock => ({ file: 'x.md', line: 10, lang, text });

describe('codeBlocks', () => {
  it('returns fenced blocks with their language, and where an indented code block starts', () => {
    const markdown = [
      'Run it:',
      '',
      '    npm start',
      '    npm test',
      '',
      '- a list item',
      '',
      '    its second paragraph, not code',
      '',
      '```sh',
      'npx signoff executions',
      '```',
      '',
      '~~~',
      'bare',
      '~~~',
    ].join('\n');
    const { blocks, indented } = codeBlocks('x.md', markdown);
    expect(indented).toEqual([3]);
    expect(blocks).toEqual([
      { file: 'x.md', line: 10, lang: 'sh', text: 'npx signoff executions' },
      { file: 'x.md', line: 14, lang: '', text: 'bare' },
    ]);
  });
});

describe('shellCommands', () => {
  it('joins continuations, quoted newlines and $(…), and drops comments', () => {
    const text = [
      '# a comment line',
      'curl -s -X POST http://127.0.0.1:8787/x \\',
      '  -d \'{"a":1}\'   # trailing comment',
      "jq '. + {a: 1,",
      "  b: 2}' \\",
      '  | cat',
      'A=$(aws sts get-caller-identity',
      '  --output text)',
      'echo "#not a comment" http://h/#frag',
    ].join('\n');
    expect(shellCommands(block('sh', text)).map((c) => [c.line, c.normalized])).toEqual([
      [12, `curl -s -X POST http://127.0.0.1:8787/x -d '{"a":1}'`],
      [14, "jq '. + {a: 1, b: 2}' | cat"],
      [17, 'A=$(aws sts get-caller-identity --output text)'],
      [19, 'echo "#not a comment" http://h/#frag'],
    ]);
  });
});

describe('consoleCommands', () => {
  it('takes the lines after "$ " as commands and the rest as their shown output', () => {
    expect(consoleCommands(block('console', '$ npx signoff --version\nsignoff 0.1.0\n$ true'))).toEqual([
      {
        line: 11,
        source: 'npx signoff --version',
        normalized: 'npx signoff --version',
        shownOutput: ['signoff 0.1.0'],
      },
      { line: 13, source: 'true', normalized: 'true', shownOutput: [] },
    ]);
  });
});
