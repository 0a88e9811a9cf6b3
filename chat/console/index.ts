import type { ApprovalChannel } from '../../core/approvals/service.ts';

/**
 * The web console as a card channel. Its "card" is the approval record itself, which the
 * console renders from the store, so sending and updating have nothing to push: the next
 * page load shows the new state. Notices reach console users through the
 * notifications store, which the notify task writes for every requester.
 */
export function createConsoleChannel(): ApprovalChannel {
  return {
    platform: 'console',
    // The console lists approvals from the store: nothing to deliver, no reference to keep.
    async send() {
      return { sent: [], undelivered: [] };
    },
    async update() {},
    async notify() {
      return false;
    },
  };
}
