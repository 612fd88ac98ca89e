/**
 * The im-task OFFLINE_PUSH tasks of one persisted batch: one per recipient, covering
 * that recipient's new messages in the batch. A message a device already took on the
 * fast path (delivered_devices not empty) needs no notification: its user is online.
 */
import type { OfflineMessage, OfflinePushTask } from '../../shared/gen/im/events/v1/events';

export const OFFLINE_PUSH = 'OFFLINE_PUSH';

/** `events` in offset order; the task names the conversation of the recipient's latest message. */
export function buildPushTasks(events: readonly OfflineMessage[], now: number): OfflinePushTask[] {
  const byUser = new Map<string, OfflinePushTask>();
  for (const e of events) {
    if (e.deliveredDevices.length > 0) continue;
    let task = byUser.get(e.recipientId);
    if (!task) {
      task = {
        taskType: OFFLINE_PUSH,
        userId: e.recipientId,
        conversationType: e.conversationType,
        conversationId: e.conversationId,
        msgIds: [],
        messageCount: 0,
        lastSenderId: e.senderId,
        createdAt: now,
      };
      byUser.set(e.recipientId, task);
    }
    if (!task.msgIds.includes(e.msgId)) {
      task.msgIds.push(e.msgId);
      task.messageCount++;
    }
    task.conversationType = e.conversationType;
    task.conversationId = e.conversationId;
    task.lastSenderId = e.senderId;
  }
  return [...byUser.values()];
}
