import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../core/commands.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { translator } from '../../core/messages/index.ts';
import { FAKE_SERVICES } from '../../local/demo/support.ts';
import { SUPPORT_COMMANDS } from '../../webhooks/commands/support.ts';
import {
  closestCodes,
  editDistance,
  findServices,
  parseCaseDraft,
  severityScope,
  supportCaseTrigger,
  supportCaseWorkflow,
  validateCaseDraft,
} from '../../workflows/support-case.ts';

const SEVERITY_LEVELS = ['low', 'normal', 'high', 'urgent', 'critical'].map((code) => ({ code, name: code }));
const definitions = SUPPORT_COMMANDS.map((c) => c.definition);

describe('support commands', () => {
  it.each([
    ['service code lambda', 'service-code', 'lambda'],
    ['查找ServiceCode: lambda', 'service-code', 'lambda'],
    ['查找服務代碼：s3', 'service-code', 's3'],
    ['サービスコード dynamodb', 'service-code', 'dynamodb'],
    ['resolve case 1234567890', 'resolve-case', '1234567890'],
    ['释放工单: 1234567890', 'resolve-case', '1234567890'],
    ['釋放工單 1234567890', 'resolve-case', '1234567890'],
    ['ケース解決 1234567890', 'resolve-case', '1234567890'],
    ['my cases', 'my-cases', ''],
    ['support cases', 'my-cases', ''],
    ['我的工单', 'my-cases', ''],
    ['我的工單', 'my-cases', ''],
    ['ケース一覧', 'my-cases', ''],
  ])('recognises %s', (text, name, argument) => {
    expect(parseCommand(text, definitions)).toMatchObject({ name, argument });
  });

  it('keeps the lines of a case request (English, 简体, 繁體, 日本語)', () => {
    for (const keyword of ['support case', '提工单', '提工單', 'サポートケース']) {
      const parsed = parseCommand(`${keyword}\nsubject: A\nbody: one\ntwo`, definitions);
      expect(parsed).toMatchObject({ name: 'support-case', argument: 'subject: A\nbody: one\ntwo' });
    }
  });
});

describe('parseCaseDraft', () => {
  it('reads fields, with a body over several lines and localized field names', () => {
    const draft = parseCaseDraft(
      '主题: 账单问题\n内容: 第一行\n第二行\nError: 500 from the API\n严重程度: low\nservice: general-info\ncategory: other\ncc: a@example.com; b@example.com',
    );
    expect(draft.fields).toEqual({
      subject: '账单问题',
      body: '第一行\n第二行\nError: 500 from the API',
      severity: 'low',
      service: 'general-info',
      category: 'other',
      cc: 'a@example.com; b@example.com',
    });
    expect(draft.duplicates).toEqual([]);
  });

  it('reads fields from one line, for platforms that fold line breaks into spaces', () => {
    const draft = parseCaseDraft(
      'subject: Lambda throttled body: Since 09:00 we get 429s. severity: high service: aws-lambda category: performance cc: a@example.com',
    );
    expect(draft.fields).toEqual({
      subject: 'Lambda throttled',
      body: 'Since 09:00 we get 429s.',
      severity: 'high',
      service: 'aws-lambda',
      category: 'performance',
      cc: 'a@example.com',
    });
  });

  it('notes a field given twice', () => {
    expect(parseCaseDraft('subject: a\nsubject: b').duplicates).toEqual(['subject']);
  });
});

describe('validateCaseDraft', () => {
  const draft = (text: string) => validateCaseDraft(parseCaseDraft(text), FAKE_SERVICES, SEVERITY_LEVELS);

  it('accepts a complete request and resolves names', () => {
    const result = draft(
      'subject: S\nbody: B\nseverity: URGENT\nservice: aws-lambda\ncategory: performance\ncc: a@example.com, b@example.com',
    );
    expect(result).toEqual({
      ok: true,
      request: {
        subject: 'S',
        body: 'B',
        severity: 'urgent',
        serviceCode: 'aws-lambda',
        serviceName: 'Lambda',
        categoryCode: 'performance',
        categoryName: 'Performance',
        cc: ['a@example.com', 'b@example.com'],
      },
    });
  });

  it('names every missing field and bad value, with the closest valid codes', () => {
    const result = draft('subject: S\nseverity: hihg\nservice: aws-lamda\ncc: not-an-email');
    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.problems.map((p) => p.message);
    expect(messages).toEqual([
      'body: missing (add a line "body: …")',
      'severity: unknown "hihg"; use one of low, normal, high, urgent, critical; closest: high',
      expect.stringContaining('service: unknown service code "aws-lamda"; closest: aws-lambda'),
      'category: missing (add a line "category: …")',
      'cc: not an email address: not-an-email',
    ]);
  });

  it('refuses a severity the account plan does not offer', () => {
    const result = validateCaseDraft(
      parseCaseDraft('subject: S\nbody: B\nseverity: critical\nservice: aws-lambda\ncategory: other'),
      FAKE_SERVICES,
      SEVERITY_LEVELS.filter((l) => l.code !== 'critical'),
    );
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([
      'severity: "critical" is not available on this account\'s Support plan; available: low, normal, high, urgent',
    ]);
  });

  it('checks the category against the chosen service', () => {
    const result = draft(
      'subject: S\nbody: B\nseverity: low\nservice: amazon-dynamodb\ncategory: instance-issue',
    );
    expect(result.ok ? '' : result.problems[0]?.message).toMatch(
      /^category: unknown category code "instance-issue" for amazon-dynamodb/,
    );
  });
});

describe('finding codes', () => {
  it('measures edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests the closest codes', () => {
    expect(closestCodes('perfomance', ['performance', 'apis', 'other'])).toEqual(['performance']);
    expect(closestCodes('zzzzzzzz', ['performance', 'apis'])).toEqual([]);
  });

  it('finds services by code or name, exact words first', () => {
    expect(findServices(FAKE_SERVICES, 'lambda').map((s) => s.code)).toEqual([
      'aws-lambda',
      'aws-lambda-edge',
      'service-limit-increase',
    ]);
    expect(findServices(FAKE_SERVICES, 'S3').map((s) => s.code)).toEqual(['amazon-simple-storage-service']);
    expect(findServices(FAKE_SERVICES, 'dynamo')[0]?.code).toBe('amazon-dynamodb');
    expect(findServices(FAKE_SERVICES, 'lamdba')[0]?.code).toBe('aws-lambda');
  });
});

describe('supportCaseTrigger', () => {
  const request = {
    subject: 'S',
    body: 'B',
    severity: 'critical' as const,
    serviceCode: 'aws-lambda',
    serviceName: 'Lambda',
    categoryCode: 'other',
    categoryName: 'Other',
    cc: [],
  };
  const requester = { platform: 'lark' as const, id: 'ou_1', name: 'Alice', user: 'alice' };

  it('scopes urgent and critical cases to the urgent policy, and names the execution after the event', () => {
    expect(severityScope('critical')).toBe('urgent');
    expect(severityScope('high')).toBe('standard');
    const config = parseConfig(DEFAULT_CONFIG_INPUT);
    const { name, input } = supportCaseTrigger(request, requester, 'lark-evt-9', config);
    expect(name).toBe('case-lark-evt-9');
    expect(input.approval.scope).toBe('urgent');
    expect(input.supportCase).toMatchObject({ language: 'en', issueType: 'technical' });
  });

  it('shows the whole case on the card', () => {
    const { input } = supportCaseTrigger(request, requester, 'e', parseConfig(DEFAULT_CONFIG_INPUT));
    const card = supportCaseWorkflow.card(input, translator('en'));
    expect(card.fields.map((f) => f.label)).toEqual([
      'Subject',
      'Body',
      'Severity',
      'Service',
      'Category',
      'Requester',
    ]);
    const ja = supportCaseWorkflow.card(input, translator('ja'));
    expect(ja.fields.map((f) => f.label)).toEqual([
      '件名',
      '本文',
      '重要度',
      'サービス',
      'カテゴリ',
      '申請者',
    ]);
    expect(ja.title).toBe(`AWS サポートケース: ${request.subject}`);
  });
});
