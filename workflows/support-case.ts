import { z } from 'zod';
import type { CardContent } from '../core/approvals/types.ts';
import { type Config, policyFor } from '../core/config.ts';
import { executionName } from '../core/ids.ts';
import { type Translate, translator } from '../core/messages/index.ts';
import {
  SEVERITIES,
  type Severity,
  type SeverityLevel,
  SUPPORT_LANGUAGES,
  type SupportService,
} from '../core/support-cases.ts';
import { ActorSchema, WorkflowEnvelope, type WorkflowModule } from '../core/workflow.ts';

/** CreateCase's `communicationBody` limit. */
export const MAX_BODY_CHARS = 8000;
export const MAX_SUBJECT_CHARS = 1000;
export const MAX_CC = 10;

export const SupportCaseRequest = z.object({
  subject: z.string().min(1).max(MAX_SUBJECT_CHARS),
  body: z.string().min(1).max(MAX_BODY_CHARS),
  severity: z.enum(SEVERITIES),
  serviceCode: z.string().min(1).max(256),
  serviceName: z.string().max(512),
  categoryCode: z.string().min(1).max(256),
  categoryName: z.string().max(512),
  cc: z.array(z.email()).max(MAX_CC),
  /** From `support.language` and `support.issueType` when requested, so the execution records them. */
  language: z.enum(SUPPORT_LANGUAGES),
  issueType: z.enum(['technical', 'customer-service']),
});
export type SupportCaseRequest = z.infer<typeof SupportCaseRequest>;

export const SupportCaseInput = WorkflowEnvelope.extend({
  kind: z.literal('support-case'),
  requester: ActorSchema.extend({ user: z.string().min(1).max(64) }),
  supportCase: SupportCaseRequest,
});
export type SupportCaseInput = z.infer<typeof SupportCaseInput>;

/**
 * The policy scope of a severity: `urgent` for urgent and critical cases (so
 * `policies.support-case.overrides.urgent` can name other approvers), `standard` otherwise.
 */
export function severityScope(severity: Severity): 'urgent' | 'standard' {
  return severity === 'urgent' || severity === 'critical' ? 'urgent' : 'standard';
}

/** The fields of a case request, by the names people may write them with (any of the four languages). */
const FIELD_NAMES: Record<'subject' | 'body' | 'severity' | 'service' | 'category' | 'cc', string[]> = {
  subject: ['subject', 'title', '主题', '标题', '主旨', '主題', '標題', '件名', 'タイトル'],
  body: ['body', 'description', 'details', '内容', '描述', '正文', '內容', '說明', '本文', '詳細', '説明'],
  severity: ['severity', '严重程度', '级别', '嚴重程度', '級別', '重要度', '緊急度'],
  service: ['service', 'service code', 'servicecode', '服务', '服務', 'サービス'],
  category: [
    'category',
    'category code',
    'categorycode',
    '类别',
    '分类',
    '類別',
    '分類',
    'カテゴリ',
    'カテゴリー',
  ],
  cc: ['cc', '抄送', '副本', 'ccメール'],
};
export type CaseField = keyof typeof FIELD_NAMES;
const FIELD_ORDER: CaseField[] = ['subject', 'body', 'severity', 'service', 'category', 'cc'];

/** A request as typed: each field's raw text, and which fields were given twice. */
export interface CaseDraft {
  fields: Partial<Record<CaseField, string>>;
  duplicates: CaseField[];
  /** Text before the first `field:` line that was not part of any field. */
  stray: string;
}

const FIELD_LINE = /^\s*([^:]{1,24}?)\s*:\s*(.*)$/;

function fieldOf(label: string): CaseField | undefined {
  const lower = label.toLowerCase();
  return FIELD_ORDER.find((field) => FIELD_NAMES[field].includes(lower));
}

/**
 * Split the text after the command keyword into fields: a line `name: value` starts a field,
 * and the lines after it (up to the next field) continue it, so a body may span many lines.
 */
export function parseCaseDraft(text: string): CaseDraft {
  const normalized = text.replace(/：/g, ':');
  // Some chat platforms hand over a message with its line breaks folded into spaces.
  const lines = normalized.includes('\n') ? normalized.split(/\r?\n/) : splitInlineFields(normalized);
  const fields: Partial<Record<CaseField, string>> = {};
  const duplicates: CaseField[] = [];
  const stray: string[] = [];
  let current: CaseField | undefined;
  for (const line of lines) {
    const match = FIELD_LINE.exec(line);
    const field = match ? fieldOf(match[1] ?? '') : undefined;
    if (match && field) {
      if (fields[field] !== undefined && !duplicates.includes(field)) duplicates.push(field);
      fields[field] = (match[2] ?? '').trim();
      current = field;
    } else if (current) {
      fields[current] = `${fields[current]}\n${line}`;
    } else if (line.trim() !== '') {
      stray.push(line.trim());
    }
  }
  for (const field of FIELD_ORDER) {
    const value = fields[field];
    if (value !== undefined) fields[field] = value.trim();
  }
  return { fields, duplicates, stray: stray.join('\n') };
}

const INLINE_FIELD = new RegExp(
  `(^|\\s)(${Object.values(FIELD_NAMES)
    .flat()
    .sort((a, b) => b.length - a.length)
    .map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|')})\\s*:`,
  'giu',
);

/** One line of text with several `field:` labels → one line per field. */
function splitInlineFields(line: string): string[] {
  const starts = [...line.matchAll(INLINE_FIELD)].map((m) => m.index + (m[1]?.length ?? 0));
  if (starts.length === 0) return [line];
  const parts = [line.slice(0, starts[0])];
  starts.forEach((start, i) => {
    parts.push(line.slice(start, starts[i + 1] ?? line.length));
  });
  return parts;
}

/** One thing wrong with a request, named so the requester can fix it. */
export interface CaseProblem {
  field: CaseField;
  message: string;
}

export type CaseValidation =
  | { ok: true; request: Omit<SupportCaseRequest, 'language' | 'issueType'> }
  | { ok: false; problems: CaseProblem[] };

/**
 * Check a draft against what AWS Support accepts (DescribeServices, DescribeSeverityLevels):
 * every missing field and every unknown code is named, with the closest valid codes, in the
 * requester's language (`t`; English by default).
 */
export function validateCaseDraft(
  draft: CaseDraft,
  services: SupportService[],
  severityLevels: SeverityLevel[],
  t: Translate = translator('en'),
): CaseValidation {
  const problems: CaseProblem[] = [];
  const { fields } = draft;
  const closest = (wanted: string, valid: string[]) => {
    const codes = closestCodes(wanted, valid);
    return codes.length > 0 ? t('caseClosest', { codes: codes.join(', ') }) : '';
  };
  for (const field of ['subject', 'body', 'severity', 'service', 'category'] as const) {
    if (!fields[field]) problems.push({ field, message: t('caseMissing', { field }) });
  }
  for (const field of draft.duplicates) problems.push({ field, message: t('caseTwice', { field }) });

  const subject = fields.subject ?? '';
  if (subject.includes('\n')) problems.push({ field: 'subject', message: t('caseSubjectOneLine') });
  if (subject.length > MAX_SUBJECT_CHARS)
    problems.push({ field: 'subject', message: t('caseSubjectLong', { max: MAX_SUBJECT_CHARS }) });
  const body = fields.body ?? '';
  if (body.length > MAX_BODY_CHARS)
    problems.push({ field: 'body', message: t('caseBodyLong', { max: MAX_BODY_CHARS }) });

  let severity: Severity | undefined;
  if (fields.severity) {
    const wanted = fields.severity.toLowerCase();
    const available = severityLevels.map((l) => l.code);
    if (!(SEVERITIES as readonly string[]).includes(wanted)) {
      problems.push({
        field: 'severity',
        message: t('caseSeverityUnknown', {
          given: fields.severity,
          list: SEVERITIES.join(', '),
          closest: closest(wanted, [...SEVERITIES]),
        }),
      });
    } else if (available.length > 0 && !available.includes(wanted)) {
      problems.push({
        field: 'severity',
        message: t('caseSeverityUnavailable', { given: wanted, list: available.join(', ') }),
      });
    } else {
      severity = wanted as Severity;
    }
  }

  let service: SupportService | undefined;
  if (fields.service) {
    const code = fields.service.toLowerCase();
    service = services.find((s) => s.code === code);
    if (!service) {
      problems.push({
        field: 'service',
        message: t('caseServiceUnknown', {
          given: fields.service,
          closest: closest(
            code,
            services.map((s) => s.code),
          ),
        }),
      });
    }
  }
  let categoryName = '';
  if (fields.category && service) {
    const code = fields.category.toLowerCase();
    const category = service.categories.find((c) => c.code === code);
    if (category) categoryName = category.name;
    else {
      problems.push({
        field: 'category',
        message: t('caseCategoryUnknown', {
          given: fields.category,
          service: service.code,
          closest: closest(
            code,
            service.categories.map((c) => c.code),
          ),
        }),
      });
    }
  }

  const cc = (fields.cc ?? '')
    .split(/[\s,;、，；]+/)
    .map((address) => address.trim())
    .filter((address) => address !== '');
  const badCc = cc.filter((address) => !z.email().safeParse(address).success);
  if (badCc.length > 0) problems.push({ field: 'cc', message: t('caseCcBad', { list: badCc.join(', ') }) });
  if (cc.length > MAX_CC) problems.push({ field: 'cc', message: t('caseCcMany', { max: MAX_CC }) });

  if (problems.length > 0 || !service || !severity) {
    return {
      ok: false,
      problems: problems.sort((a, b) => FIELD_ORDER.indexOf(a.field) - FIELD_ORDER.indexOf(b.field)),
    };
  }
  return {
    ok: true,
    request: {
      subject,
      body,
      severity,
      serviceCode: service.code,
      serviceName: service.name,
      categoryCode: (fields.category ?? '').toLowerCase(),
      categoryName,
      cc,
    },
  };
}

/** `; closest: a, b, c` — the nearest valid codes by edit distance (or by containment). */
/** Up to `count` codes closest to `wanted`: ones containing it first, then by edit distance. */
export function closestCodes(wanted: string, valid: string[], count = 3): string[] {
  const w = wanted.toLowerCase();
  return valid
    .map((code) => {
      const c = code.toLowerCase();
      const contains = w.length >= 3 && (c.includes(w) || w.includes(c));
      return { code, score: contains ? -1 + editDistance(w, c) / 1000 : editDistance(w, c) };
    })
    .filter(({ score }) => score < Math.max(3, w.length * 0.6))
    .sort((a, b) => a.score - b.score || a.code.localeCompare(b.code))
    .slice(0, count)
    .map(({ code }) => code);
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Services whose code, name (or a category) matches a search, best first: containment, then edit distance. */
export function findServices(services: SupportService[], search: string, limit = 8): SupportService[] {
  const q = search.trim().toLowerCase();
  if (q === '') return [];
  const scored = services.map((service) => {
    const code = service.code.toLowerCase();
    const name = service.name.toLowerCase();
    let score: number;
    if (code === q || name === q) score = 0;
    else if (code.split('-').includes(q) || name.split(/[\s()@-]+/).includes(q)) score = 1;
    else if (code.includes(q) || name.includes(q)) score = 2;
    // e.g. "Service Limit Increase" has a category per service it raises limits for
    else if (service.categories.some((c) => c.code.toLowerCase() === q || c.name.toLowerCase() === q))
      score = 3;
    else score = 10 + Math.min(editDistance(q, code), editDistance(q, name));
    return { service, score };
  });
  const direct = scored.filter((s) => s.score < 10);
  const pool = direct.length > 0 ? direct : scored.filter((s) => s.score < 10 + Math.max(3, q.length * 0.5));
  return pool
    .sort((a, b) => a.score - b.score || a.service.code.localeCompare(b.service.code))
    .slice(0, limit)
    .map((s) => s.service);
}

/**
 * The workflow input and execution name for a validated request. The name comes from the
 * triggering event id only, so a redelivered command starts nothing new.
 */
export function supportCaseTrigger(
  request: Omit<SupportCaseRequest, 'language' | 'issueType'>,
  requester: SupportCaseInput['requester'],
  eventId: string,
  config: Config,
): { name: string; input: SupportCaseInput } {
  const scope = severityScope(request.severity);
  const policy = policyFor(config, 'support-case', scope);
  return {
    name: executionName('case', eventId),
    input: {
      kind: 'support-case',
      requester,
      approval: { scope, timeoutSeconds: policy.timeoutSeconds },
      supportCase: { ...request, language: config.support.language, issueType: config.support.issueType },
    },
  };
}

export const supportCaseWorkflow: WorkflowModule<SupportCaseInput> = {
  kind: 'support-case',
  input: SupportCaseInput,
  card(input, t): CardContent {
    const c = input.supportCase;
    return {
      title: t('supportTitle', { subject: c.subject }),
      summary: t('supportSummary', {
        who: input.requester.name,
        severity: c.severity,
        service: c.serviceName || c.serviceCode,
      }),
      fields: [
        { label: t('fieldSubject'), value: c.subject },
        { label: t('fieldBody'), value: c.body },
        { label: t('fieldSeverity'), value: c.severity },
        {
          label: t('fieldService'),
          value: c.serviceName ? `${c.serviceName} (${c.serviceCode})` : c.serviceCode,
        },
        {
          label: t('fieldCategory'),
          value: c.categoryName ? `${c.categoryName} (${c.categoryCode})` : c.categoryCode,
        },
        ...(c.cc.length > 0 ? [{ label: t('fieldCc'), value: c.cc.join(', ') }] : []),
        { label: t('requester'), value: `${input.requester.name} (${input.requester.user})` },
      ],
      links: [],
    };
  },
};
