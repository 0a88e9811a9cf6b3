import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await startTestRuntime();
});
afterAll(async () => {
  await rt?.stop();
});

function post(fields: Record<string, string>): Promise<Response> {
  return fetch(`${rt.urls.app}/console/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: rt.urls.app },
    body: new URLSearchParams(fields).toString(),
  });
}

async function deploys(): Promise<number> {
  const out = await rt.sfn.send(
    new ListExecutionsCommand({
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-deploy',
    }),
  );
  return out.executions?.length ?? 0;
}

describe('the console command box', () => {
  it('shows the box to the acting user and answers a command with its choices as buttons', async () => {
    const page = await (await fetch(`${rt.urls.app}/console?as=bob`)).text();
    expect(page).toContain('action="/console/commands"');
    // The demo stand-ins the commands reach are labelled as such.
    expect(page).toContain('Demo AWS Lambda stand-in (local, not a real AWS account)');
    expect(page).toContain('Demo AWS Support stand-in');

    const response = await post({ actor: 'bob', text: '環境佈署清單', eventId: 'box1' });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('data-notice');
    // Each environment is a button that sends its command back.
    expect(html).toMatch(/name="text" value="佈署 test"/);
    expect(html).toMatch(/name="text" value="佈署 prod"/);
  });

  it('starts a deploy from a button, once even when the form is sent twice', async () => {
    const before = await deploys();
    const first = await post({ actor: 'bob', text: '佈署 test', eventId: 'box-deploy-1' });
    expect(first.status).toBe(200);
    await post({ actor: 'bob', text: '佈署 test', eventId: 'box-deploy-1' });
    expect(await deploys()).toBe(before + 1);
  });

  it('refuses a form posted from another origin, and an unknown user', async () => {
    const forged = await fetch(`${rt.urls.app}/console/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
      body: new URLSearchParams({ actor: 'bob', text: 'deploy test' }).toString(),
    });
    expect(forged.status).toBe(403);
    expect((await post({ actor: 'mallory', text: 'help' })).status).toBe(403);
  });
});
