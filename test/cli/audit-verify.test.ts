import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../core/audit.ts';
import { cliRuntime } from '../support/cli.ts';
import {
  decideAs as decide,
  finalStatus,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
} from '../support/runtime.ts';

const { rt: runtime, cli } = cliRuntime();

describe('signoff audit verify', () => {
  it('says intact after a real run (and the start audited the configuration once), then names an edited record', async () => {
    const { hook } = openedMergeRequest(runtime().gitlab, 71);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(runtime().urls.app, hook));
    await decide(runtime(), (await pendingFor(runtime(), executionArn)).approvalId, 'bob', 'approve');
    expect(await finalStatus(runtime(), executionArn)).toBe('SUCCEEDED');

    const config = await cli('audit', '--kind', 'config', '--format', 'json');
    expect((JSON.parse(config.out) as { records: AuditRecord[] }).records).toMatchObject([
      { kind: 'config', action: 'config.changed', seq: 1 },
    ]);

    const intact = await cli('audit', 'verify', '--format', 'json');
    expect(intact.code).toBe(0);
    const report = JSON.parse(intact.out) as {
      intact: boolean;
      chains: Array<{ kind: string; checked: number }>;
    };
    expect(report.intact).toBe(true);
    expect(report.chains.find((c) => c.kind === 'merge-request')?.checked).toBeGreaterThan(2);
    const table = await cli('audit', 'verify', '--kind', 'merge-request');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^CHAIN\s+CHECKED\s+HEAD\s+HEAD HASH\s+RESULT\n/);
    expect(table.out).toMatch(/merge-request\s+\d+\s+#\d+\s+[0-9a-f]{64}\s+intact/);

    // Edit one record in the table behind Signoff's back.
    const listed = await cli('audit', '--execution', executionArn, '--format', 'json');
    const records = (JSON.parse(listed.out) as { records: AuditRecord[] }).records.sort(
      (a, b) => (a.seq ?? 0) - (b.seq ?? 0),
    );
    expect(records.every((r) => r.hash && r.prev && r.seq)).toBe(true);
    const victim = records[1] as AuditRecord;
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: runtime().urls.dynamo,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: 'signoff',
          Key: { pk: { S: `EXEC#${executionArn}` }, sk: { S: `AUDIT#${victim.id}` } },
          UpdateExpression: 'SET outcome = :o',
          ExpressionAttributeValues: { ':o': { S: 'forged' } },
        }),
      );
    } finally {
      client.destroy();
    }
    const broken = await cli('audit', 'verify', '--since', victim.at.slice(0, 10));
    expect(broken.code).toBe(1);
    expect(broken.out).toContain(
      `broken: merge-request #${victim.seq} ${victim.id} (${executionArn}): record #${victim.seq} was edited`,
    );
    const api = await json<{
      intact: boolean;
      chains: Array<{ kind: string; broken?: { seq: number; id: string } }>;
    }>(await fetch(`${runtime().urls.app}/console/api/audit/verify?kind=merge-request`));
    expect(api.intact).toBe(false);
    expect(api.chains).toMatchObject([{ kind: 'merge-request', broken: { seq: victim.seq, id: victim.id } }]);
    expect((await fetch(`${runtime().urls.app}/console/api/audit/verify?kind=nope`)).status).toBe(400);
    expect((await cli('audit', 'verify', '--kind', 'config')).code).toBe(0);
    expect((await cli('audit', 'verify', '--kind', 'nope')).code).toBe(2);
  });
});
