import type { ApprovalChannel } from '../../core/approvals/service.ts';

/**
 * The web console as a card channel. Its "card" is the approval record itself, which the
 * console renders from the store, so sending records a reference and an update has nothing
 * to push: the next page load shows the new state. Notices reach console users through the
 * notifications store, which the notify task writes for every requester.
 */
export function createConsoleChannel(): ApprovalChannel {
  return {
    platform: 'console',
    async send(approval) {
      return [{ platform: 'console', id: approval.approvalId }];
    },
    async update() {},
    async notify() {
      return false;
    },
  };
}
