import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from '../../console/export.ts';
import type { AuditRecord } from '../../core/audit.ts';

describe('csvField', () => {
  it('quotes separators, quotes and line breaks', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('defuses values a spreadsheet would run as formulas', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
  });
});

describe('toCsv', () => {
  it('writes a header and one line per record', () => {
    const record: AuditRecord = {
      id: '2040-01-01T00:00:00.000Z#abc',
      kind: 'deploy',
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:signoff-deploy:x',
      action: 'approval.vote',
      actor: { platform: 'lark', id: 'ou_1', name: 'Bob, Jr.' },
      outcome: 'approve',
      at: '2040-01-01T00:00:00.000Z',
      detail: { comment: 'ok' },
    };
    const lines = toCsv([record]).split('\r\n');
    expect(lines[0]).toBe(
      'time,kind,execution,action,outcome,actor_platform,actor_id,actor_name,actor_user,detail,id,seq,prev,hash',
    );
    expect(lines[1]).toBe(
      '2040-01-01T00:00:00.000Z,deploy,arn:aws:states:us-east-1:123456789012:execution:signoff-deploy:x,approval.vote,approve,lark,ou_1,"Bob, Jr.",,"{""comment"":""ok""}",2040-01-01T00:00:00.000Z#abc,,,',
    );
    expect(lines[2]).toBe('');
  });
});
