import { describe, expect, it } from 'vitest';
import { guessLanguage, normalizeCommandText, parseCommand as parseWith } from '../../core/commands.ts';
import { CHAT_COMMANDS } from '../../webhooks/commands/index.ts';

const parseCommand = (text: string) =>
  parseWith(
    text,
    CHAT_COMMANDS.map((c) => c.definition),
  );

describe('parseCommand', () => {
  it.each([
    ['help', 'help', '', 'en'],
    ['HELP', 'help', '', 'en'],
    ['帮助', 'help', '', 'zh-Hans'],
    ['幫助', 'help', '', 'zh-Hant'],
    ['ヘルプ', 'help', '', 'ja'],
    ['approvals', 'approvals', '', 'en'],
    ['待审批', 'approvals', '', 'zh-Hans'],
    ['待審批', 'approvals', '', 'zh-Hant'],
    ['承認待ち', 'approvals', '', 'ja'],
    ['status abc123', 'status', 'abc123', 'en'],
    ['状态 abc123', 'status', 'abc123', 'zh-Hans'],
    ['狀態：abc123', 'status', 'abc123', 'zh-Hant'],
    ['ステータス abc123', 'status', 'abc123', 'ja'],
    ['cancel abc123', 'cancel', 'abc123', 'en'],
    ['取消abc123', 'cancel', 'abc123', 'zh-Hans'],
    ['撤回 abc123', 'cancel', 'abc123', 'zh-Hant'],
    ['キャンセル abc123', 'cancel', 'abc123', 'ja'],
  ])('recognises %j as %s', (text, name, argument, language) => {
    expect(parseCommand(text)).toEqual({ name, argument, language });
  });

  it('normalises full-width letters and colons', () => {
    expect(parseCommand('ｓｔａｔｕｓ：ａｂｃ')).toEqual({ name: 'status', argument: 'abc', language: 'en' });
  });

  it('needs a word boundary after an ASCII keyword', () => {
    expect(parseCommand('helpful tips')).toBeUndefined();
    expect(parseCommand('statuses')).toBeUndefined();
  });

  it('refuses an argument for a command that takes none', () => {
    expect(parseCommand('help me please')).toBeUndefined();
  });

  it('leaves unknown text unrecognised (the caller answers with help)', () => {
    expect(parseCommand('good morning')).toBeUndefined();
    expect(parseCommand('')).toBeUndefined();
  });

  it('keeps the lines of a multi-line argument', () => {
    expect(parseCommand('status  a\n  b  ')?.argument).toBe('a\nb');
  });
});

describe('guessLanguage', () => {
  it('tells the four languages apart by script', () => {
    expect(guessLanguage('hello')).toBe('en');
    expect(guessLanguage('こんにちは')).toBe('ja');
    expect(guessLanguage('请帮我看看')).toBe('zh-Hans');
    expect(guessLanguage('請幫我看這個')).toBe('zh-Hant');
  });
});

describe('normalizeCommandText', () => {
  it('collapses spaces, including ideographic spaces', () => {
    expect(normalizeCommandText('  status\u3000\u3000x ')).toBe('status x');
  });
});
