import { describe, expect, it } from 'vitest';
import { reminderSteps } from '../../core/approvals/reminders.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { parseDuration } from '../../core/durations.ts';

describe('parseDuration', () => {
  it('reads seconds, minutes, hours and days, and refuses anything else', () => {
    expect([parseDuration('30s'), parseDuration('30m'), parseDuration('2h'), parseDuration('1d')]).toEqual([
      30, 1800, 7200, 86_400,
    ]);
    for (const bad of ['0m', '1.5h', '2 h', '1w', '', '-1m']) expect(() => parseDuration(bad), bad).toThrow();
  });
});

describe('reminderSteps', () => {
  it('orders reminders and the escalation in time, each waiting from the previous step', () => {
    expect(reminderSteps({ remind: ['2h', '30m'], escalate: { after: '4h', to: ['sre-oncall'] } })).toEqual([
      { waitSeconds: 1800, action: 'remind', index: 0 },
      { waitSeconds: 5400, action: 'remind', index: 1 },
      { waitSeconds: 7200, action: 'escalate', index: 2 },
    ]);
    expect(reminderSteps({})).toEqual([]);
  });
});

describe('remind, escalate and groups in the configuration', () => {
  function config(changes: { groups?: unknown; policy?: Record<string, unknown> }) {
    const input = structuredClone(DEFAULT_CONFIG_INPUT) as Record<string, unknown> & {
      policies: Record<string, Record<string, unknown>>;
    };
    if (changes.groups) input.groups = changes.groups;
    input.policies['merge-request'] = { ...input.policies['merge-request'], ...changes.policy };
    return () => parseConfig(input);
  }

  it('accepts groups of known users and policies that escalate to them', () => {
    const parsed = config({
      groups: { 'sre-oncall': ['carol'] },
      policy: { remind: ['30m', '2h'], escalate: { after: '4h', to: ['sre-oncall'] } },
    })();
    expect(parsed.groups).toEqual({ 'sre-oncall': ['carol'] });
    expect(parsed.policies['merge-request']?.escalate).toEqual({ after: '4h', to: ['sre-oncall'] });
  });

  it('names an unknown group, an unknown member and a bad duration', () => {
    expect(config({ policy: { escalate: { after: '4h', to: ['nobody'] } } })).toThrow(
      /policies\.merge-request\.escalate\.to.*unknown group "nobody"/s,
    );
    expect(config({ groups: { oncall: ['zed'] } })).toThrow(/groups\.oncall.*unknown user "zed"/s);
    expect(config({ policy: { remind: ['30 minutes'] } })).toThrow(/remind/);
  });
});
