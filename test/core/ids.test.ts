import { describe, expect, it } from 'vitest';
import { approvalIdForToken, executionName, randomId, safeEqual, shortHash, timeId } from '../../core/ids.ts';

const URL_SAFE = /^[0-9A-Za-z_-]+$/;
const NAME_SAFE = /^[0-9A-Za-z_-]{1,80}$/;

describe('approvalIdForToken', () => {
  it('gives the same id for the same task token', () => {
    const token = 'AQCEAAAAKgAAAAMAAAAAAAAAAf+task-token/with+slashes==';
    expect(approvalIdForToken(token)).toBe(approvalIdForToken(token));
  });

  it('is a letter and 22 URL-safe characters, so it never starts with "-"', () => {
    for (const token of ['a', 'x'.repeat(2048), 'tøkén/+=?&#']) {
      const id = approvalIdForToken(token);
      expect(id).toHaveLength(23);
      expect(id).toMatch(/^a[0-9A-Za-z_-]{22}$/);
      expect(id).toMatch(URL_SAFE);
    }
  });

  it('differs for different tokens, including tokens that differ in one character', () => {
    const ids = new Set(Array.from({ length: 200 }, (_, i) => approvalIdForToken(`token-${i}`)));
    expect(ids.size).toBe(200);
    expect(approvalIdForToken('token-a')).not.toBe(approvalIdForToken('token-b'));
  });

  it('does not contain the token', () => {
    const token = 'secret-task-token';
    expect(approvalIdForToken(token)).not.toContain('secret');
  });
});

describe('randomId', () => {
  it('is 22 URL-safe characters and new each time', () => {
    const ids = new Set(Array.from({ length: 100 }, () => randomId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z_-]{22}$/);
  });
});

describe('timeId', () => {
  it('starts with the ISO time so ids sort by time', () => {
    const earlier = timeId(new Date('2030-01-01T00:00:00.000Z'));
    const later = timeId(new Date('2030-01-01T00:00:00.001Z'));
    expect(earlier.startsWith('2030-01-01T00:00:00.000Z#')).toBe(true);
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it('differs for the same instant', () => {
    const at = new Date('2030-01-01T00:00:00.000Z');
    expect(timeId(at)).not.toBe(timeId(at));
  });
});

describe('executionName', () => {
  it('joins short parts with dashes and keeps them readable', () => {
    expect(executionName('gitlab', 12, 'mr', 7, 'open')).toBe('gitlab-12-mr-7-open');
  });

  it('replaces characters Step Functions names may not contain', () => {
    const name = executionName('grp/app', 'feature: x', 'ä', 'a.b@c');
    expect(name).toMatch(NAME_SAFE);
    expect(name).toBe('grp-app-feature--x---a-b-c');
  });

  it('keeps long names within 80 characters', () => {
    const name = executionName('gitlab', 'a'.repeat(200), 'b/c'.repeat(50), 42);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(NAME_SAFE);
  });

  it('keeps an 80-character name as it is', () => {
    const exact = 'x'.repeat(80);
    expect(executionName(exact)).toBe(exact);
    expect(executionName('x'.repeat(81))).not.toBe(exact);
  });

  it('keeps long names distinct when they share a long prefix', () => {
    const prefix = 'p'.repeat(100);
    const a = executionName(prefix, 'event-1');
    const b = executionName(prefix, 'event-2');
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(80);
    expect(b.length).toBeLessThanOrEqual(80);
  });

  it('gives the same name for the same event', () => {
    const parts = ['gitlab', 12, 'q'.repeat(120), 'abc123'] as const;
    expect(executionName(...parts)).toBe(executionName(...parts));
  });
});

describe('safeEqual', () => {
  it('is true only for identical strings', () => {
    expect(safeEqual('s3cret-token', 's3cret-token')).toBe(true);
    expect(safeEqual('s3cret-token', 's3cret-tokeN')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });

  it('is false for strings of different lengths without throwing', () => {
    expect(safeEqual('short', 'a much longer secret')).toBe(false);
    expect(safeEqual('abc', '')).toBe(false);
  });
});

describe('shortHash', () => {
  it('is a stable hex prefix of the requested length', () => {
    expect(shortHash('value')).toMatch(/^[0-9a-f]{12}$/);
    expect(shortHash('value', 20)).toHaveLength(20);
    expect(shortHash('value')).toBe(shortHash('value'));
    expect(shortHash('value')).not.toBe(shortHash('other'));
  });
});
