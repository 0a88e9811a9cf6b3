import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { checkUntil, findUser, isApproverAnywhere, parseUntil } from '../../core/delegations.ts';
import { parseDelegateArgument } from '../../webhooks/commands/delegate.ts';

const NOW = new Date('2026-12-01T09:00:00Z');

describe('parseUntil', () => {
  it('reads a date as through that day (UTC), in the forms people write it', () => {
    for (const text of ['2026-12-24', '2026/12/24', '2026年12月24日', '２０２６-１２-２４'])
      expect(parseUntil(text).toISOString()).toBe('2026-12-25T00:00:00.000Z');
  });

  it('reads a time with its zone as that moment', () => {
    expect(parseUntil('2026-12-24T18:00:00+09:00').toISOString()).toBe('2026-12-24T09:00:00.000Z');
    expect(parseUntil('2026-12-24T18:00Z').toISOString()).toBe('2026-12-24T18:00:00.000Z');
  });

  it('refuses what is not a date, a day that does not exist, and a time without its zone', () => {
    for (const text of ['tomorrow', '2026-02-30', '2026-12-24T18:00', '24/12/2026', ''])
      expect(() => parseUntil(text)).toThrow(expect.objectContaining({ code: 'BadUntil', status: 400 }));
  });
});

describe('checkUntil', () => {
  it('wants a moment after now and at most 90 days ahead', () => {
    expect(() => checkUntil(NOW, NOW)).toThrow(expect.objectContaining({ code: 'UntilNotFuture' }));
    expect(() => checkUntil(new Date(NOW.getTime() + 90 * 86_400_000), NOW)).not.toThrow();
    expect(() => checkUntil(new Date(NOW.getTime() + 90 * 86_400_000 + 1), NOW)).toThrow(
      expect.objectContaining({ code: 'UntilTooFar' }),
    );
  });
});

describe('who may delegate, and to whom', () => {
  const config = parseConfig({
    ...DEFAULT_CONFIG_INPUT,
    users: { ...DEFAULT_CONFIG_INPUT.users, dave: { name: 'Dave Li' }, erin: { name: 'Erin' } },
    groups: { oncall: ['erin'] },
    policies: {
      ...DEFAULT_CONFIG_INPUT.policies,
      deploy: {
        approvers: ['bob'],
        overrides: { prod: { approvers: ['carol'], escalate: { after: '1h', to: ['oncall'] } } },
      },
    },
  });

  it('counts approvers of any policy or override, and the groups a policy escalates to', () => {
    expect(['alice', 'bob', 'carol', 'dave', 'erin'].filter((u) => isApproverAnywhere(config, u))).toEqual([
      'bob',
      'carol',
      'erin',
    ]);
  });

  it('finds the delegate by key or configured name, case-insensitively', () => {
    expect(findUser(config, 'Carol')).toBe('carol');
    expect(findUser(config, '@bob')).toBe('bob');
    expect(findUser(config, 'dave li')).toBe('dave');
    expect(findUser(config, 'zed')).toBeUndefined();
  });
});

describe('parseDelegateArgument', () => {
  it('reads the delegate and the date in each language', () => {
    const set = { action: 'set', to: 'bob', until: '2026-12-24' };
    expect(parseDelegateArgument('to bob until 2026-12-24')).toEqual(set);
    expect(parseDelegateArgument('给 bob 至 2026-12-24')).toEqual(set);
    expect(parseDelegateArgument('bob到2026-12-24')).toEqual(set);
    expect(parseDelegateArgument('bob 2026-12-24まで')).toEqual(set);
    expect(parseDelegateArgument('bob に 2026年12月24日まで')).toEqual({ ...set, until: '2026年12月24日' });
    expect(parseDelegateArgument('to Dave Li until 2026-12-24T18:00:00Z')).toEqual({
      action: 'set',
      to: 'Dave Li',
      until: '2026-12-24T18:00:00Z',
    });
  });

  it('shows with no argument, ends with an off word, and keeps a word that is not a date for the refusal', () => {
    expect(parseDelegateArgument('')).toEqual({ action: 'show' });
    for (const off of ['off', 'OFF', '关闭', '關閉', '解除'])
      expect(parseDelegateArgument(off)).toEqual({ action: 'off' });
    expect(parseDelegateArgument('to bob until tomorrow')).toEqual({
      action: 'set',
      to: 'bob',
      until: 'tomorrow',
    });
    expect(parseDelegateArgument('to bob')).toEqual({ action: 'set', to: 'bob', until: undefined });
  });
});
