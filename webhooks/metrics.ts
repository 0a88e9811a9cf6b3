import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What the app reports to `/metrics`. `webhooks/app.ts` imports only this type, so prom-client
 * (about 40 ms to import) stays out of the Lambda cold path; the local runtime builds it with
 * `createMetrics`.
 */
export interface AppMetrics {
  /** One webhook request answered: its route (`/webhooks/<source>`), status and duration. */
  observeRequest(route: string, status: number, seconds: number): void;
  /** One decision taken (approve/reject) and what came of it (recorded, completed, refused). */
  decision(decision: string, outcome: string): void;
  /** A card that could not be sent to a chat platform. */
  chatSendFailure(platform: string): void;
  readonly contentType: string;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
}

export interface MetricsSources {
  /** How many approvals wait for a decision now (read when scraped). */
  pendingApprovals(): Promise<number>;
}

export function createMetrics(sources: MetricsSources): AppMetrics {
  const registry = new Registry();
  new Gauge({
    name: 'signoff_pending_approvals',
    help: 'Approvals waiting for a decision',
    registers: [registry],
    async collect() {
      this.set(await sources.pendingApprovals());
    },
  });
  const decisions = new Counter({
    name: 'signoff_decisions_total',
    help: 'Decisions taken, by decision (approve, reject) and outcome (recorded, completed, refused)',
    labelNames: ['decision', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'signoff_webhook_duration_seconds',
    help: 'Time to answer a webhook, by route and status',
    labelNames: ['route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const sendFailures = new Counter({
    name: 'signoff_chat_send_failures_total',
    help: 'Cards that could not be sent to a chat platform, by platform',
    labelNames: ['platform'] as const,
    registers: [registry],
  });
  return {
    observeRequest: (route, status, seconds) => latency.observe({ route, status: String(status) }, seconds),
    decision: (decision, outcome) => decisions.inc({ decision, outcome }),
    chatSendFailure: (platform) => sendFailures.inc({ platform }),
    contentType: registry.contentType,
    text: () => registry.metrics(),
  };
}
