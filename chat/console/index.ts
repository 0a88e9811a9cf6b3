import type { ApprovalChannel } from '../../core/approvals/service.ts';

/**
 * The web console as a card channel. Its "card" is the approval record itself, which the
 * console renders from the store, so sending records a reference and an update has nothing
 * to push: the next page load shows the new state.
 */
export function createConsoleChannel(): ApprovalChannel {
  return {
    platform: 'console',
    async send(approval) {
      return [{ platform: 'console', id: approval.approvalId }];
    },
    async update() {},
  };
}
