import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleChange, createChangeFeed } from '../../console/events.ts';
import type { ConsoleSources } from '../../console/queries.ts';
import type { Approval } from '../../core/approvals/types.ts';
import {
  decideAs,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

/** Sources whose pending approvals the test changes; every read is counted. */
function memorySources() {
  const state = { pending: [] as Approval[], reads: 0 };
  const sources = {
    store: {
      list: async () => {
        state.reads++;
        return state.pending;
      },
    },
    audit: { query: async () => ({ records: [] }) },
    engine: { list: async () => ({ executions: [] }) },
  } as unknown as Pick<ConsoleSources, 'store' | 'audit' | 'engine'>;
  return { state, sources };
}

function nextChange(feed: ReturnType<typeof createChangeFeed>, after?: string): Promise<ConsoleChange> {
  return new Promise((resolve) => {
    const unsubscribe = feed.subscribe((change) => {
      if (change.marker === after) return;
      unsubscribe();
      resolve(change);
    });
  });
}

describe('createChangeFeed', () => {
  it('tells listeners the current state, then a new marker when the pending approvals change', async () => {
    const { state, sources } = memorySources();
    const feed = createChangeFeed(sources, { intervalMs: 5 });
    const first = await nextChange(feed);
    expect(first.pending).toBe(0);
    state.pending = [{ approvalId: 'a1', votes: [], status: 'pending' } as unknown as Approval];
    const second = await nextChange(feed, first.marker);
    expect(second).toMatchObject({ pending: 1 });
    expect(second.marker).not.toBe(first.marker);
  });

  it('stops reading once nobody listens', async () => {
    const { state, sources } = memorySources();
    const feed = createChangeFeed(sources, { intervalMs: 5 });
    await nextChange(feed);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const reads = state.reads;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(state.reads).toBe(reads);
  });
});

let rt: TestRuntime;
beforeAll(async () => {
  rt = await startTestRuntime();
}, 60_000);
afterAll(async () => {
  await rt?.stop();
});

/** The change events of a server-sent event stream, one at a time. */
function changesOf(response: Response) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(): Promise<ConsoleChange> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.match(/^data: (.*)$/m)?.[1];
          if (/^event: change$/m.test(block) && data) return JSON.parse(data) as ConsoleChange;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    close: () => reader.cancel(),
  };
}

describe('GET /console/events', () => {
  it('streams a change when an approval is requested and another when it is decided', async () => {
    const response = await fetch(`${rt.urls.app}/console/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const changes = changesOf(response);
    const first = await changes.next();
    expect(first.pending).toBe(0);
    const { hook } = openedMergeRequest(rt.gitlab, 41);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    let change = await changes.next();
    while (change.pending !== 1) change = await changes.next();
    const approval = await pendingFor(rt, executionArn);
    expect((await decideAs(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    const markers = new Set([first.marker, change.marker]);
    change = await changes.next();
    while (change.pending !== 0) {
      markers.add(change.marker);
      change = await changes.next();
    }
    expect(markers.has(change.marker)).toBe(false);
    await changes.close();
  }, 60_000);
});
