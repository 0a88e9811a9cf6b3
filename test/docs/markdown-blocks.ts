/** A fenced code block of a Markdown file: its language (the info string's first word) and text. */
export interface CodeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
}

/** A command of a shell block: its source as written (continuation lines included) and the form rules match. */
export interface ShellCommand {
  /** 1-based line in the file where the command starts. */
  line: number;
  /** As written, to run: continuation lines and comments kept. */
  source: string;
  /** One line, continuations joined and comments dropped: what classification rules match. */
  normalized: string;
  /** `console` blocks: the output the doc shows under the command. */
  shownOutput?: string[];
}

export const SHELL_LANGS = ['sh', 'bash', 'shell', 'zsh'];

const LIST_ITEM = /^\s*([-*+]|\d+[.)])\s/;

/**
 * The fenced blocks of a Markdown file, and the lines where an indented code block starts (a
 * four-space block outside a list): a command in one of those would escape the docs test.
 */
export function codeBlocks(file: string, markdown: string): { blocks: CodeBlock[]; indented: number[] } {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  const indented: number[] = [];
  let open: { fence: string; line: number; lang: string; body: string[] } | undefined;
  let inList = false;
  let inIndented = false;
  for (const [index, line] of lines.entries()) {
    const fence = /^\s*(`{3,}|~{3,})(.*)$/.exec(line);
    if (open) {
      if (fence?.[1]?.startsWith(open.fence) && fence[2]?.trim() === '') {
        blocks.push({ file, line: open.line, lang: open.lang, text: open.body.join('\n') });
        open = undefined;
      } else open.body.push(line);
      continue;
    }
    if (fence) {
      open = {
        fence: fence[1] ?? '```',
        line: index + 1,
        lang: fence[2]?.trim().split(/\s+/)[0] ?? '',
        body: [],
      };
      inIndented = false;
      continue;
    }
    const blank = line.trim() === '';
    const previousBlank = index === 0 || (lines[index - 1] ?? '').trim() === '';
    if (/^( {4}|\t)/.test(line) && !blank) {
      if (inIndented) continue;
      if (previousBlank && !inList) {
        indented.push(index + 1);
        inIndented = true;
      }
      continue;
    }
    if (blank) continue;
    inIndented = false;
    if (LIST_ITEM.test(line)) inList = true;
    else if (!/^\s/.test(line)) inList = false;
  }
  return { blocks, indented };
}

/**
 * The commands of a `sh` block: a command goes on past a newline inside quotes or `$(…)`, after
 * a trailing backslash, and after a trailing `|`, `&&` or `||`. Lines that are only a comment
 * are not commands.
 */
export function shellCommands(block: CodeBlock): ShellCommand[] {
  const commands: ShellCommand[] = [];
  const lines = block.text.split('\n');
  let current: { line: number; source: string[]; words: string } | undefined;
  let quote: '"' | "'" | undefined;
  let depth = 0;
  for (const [index, line] of lines.entries()) {
    if (!current) {
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      current = { line: block.line + 1 + index, source: [], words: '' };
    }
    current.source.push(line);
    let words = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string;
      if (quote) {
        if (c === quote) quote = undefined;
        else if (c === '\\' && quote === '"') {
          words += c + (line[i + 1] ?? '');
          i++;
          continue;
        }
        words += c;
        continue;
      }
      if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) break;
      if (c === "'" || c === '"') quote = c;
      else if (c === '(' && line[i - 1] === '$') depth++;
      else if (c === ')' && depth > 0) depth--;
      words += c;
    }
    const trimmed = words.trimEnd();
    const continues = quote !== undefined || depth > 0 || /(\\|\||&&)$/.test(trimmed);
    current.words += `${trimmed.replace(/\\$/, '').trim()} `;
    if (!continues) {
      commands.push({
        line: current.line,
        source: current.source.join('\n'),
        normalized: current.words.replace(/\s+/g, ' ').trim(),
      });
      current = undefined;
    }
  }
  if (current)
    commands.push({
      line: current.line,
      source: current.source.join('\n'),
      normalized: current.words.replace(/\s+/g, ' ').trim(),
    });
  return commands;
}

/** The commands of a `console` block (the lines after `$ `), each with the output shown under it. */
export function consoleCommands(block: CodeBlock): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let current: ShellCommand | undefined;
  for (const [index, line] of block.text.split('\n').entries()) {
    if (line.startsWith('$ ')) {
      const text = line.slice(2);
      current = { line: block.line + 1 + index, source: text, normalized: text.trim(), shownOutput: [] };
      commands.push(current);
    } else current?.shownOutput?.push(line);
  }
  return commands;
}
