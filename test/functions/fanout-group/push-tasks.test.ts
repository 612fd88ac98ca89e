/**
 * OFFLINE_PUSH task buffering: nothing is published while fewer than the hold limit are
 * held (pushes go first), drain() publishes the rest in sends of flushSize, a member who
 * missed several messages of a group gets one task listing them in order, the sender
 * gets none, and a failed send fails drain().
 */
import type { OfflinePushTask } from '../../../shared/gen/im/events/v1/events';
import { ImError } from '../../../shared/errors';
import { OFFLINE_PUSH, PushTaskBuffer, type PushTaskSink } from '../../../functions/fanout-group/push-tasks';

class RecordingSink implements PushTaskSink {
  readonly sends: OfflinePushTask[][] = [];
  fail = false;

  send(tasks: readonly OfflinePushTask[]): Promise<void> {
    this.sends.push([...tasks]);
    return this.fail ? Promise.reject(new ImError('KAFKA_ERROR', 'broker down')) : Promise.resolve();
  }
}

const m = (msgId: string, groupId = 'g1', senderId = 'sender') => ({ msgId, groupId, senderId });

describe('PushTaskBuffer', () => {
  it('holds tasks until drain, then sends them in chunks of flushSize', async () => {
    const sink = new RecordingSink();
    const buffer = new PushTaskBuffer(sink, 2, () => 42, 100);
    for (const u of ['u1', 'u2', 'u3', 'u4', 'u5']) buffer.add(u, m('m1'));
    expect(sink.sends).toHaveLength(0);
    await buffer.drain();
    expect(sink.sends.map((s) => s.length)).toEqual([2, 2, 1]);
    expect(buffer.count).toBe(5);
    expect(sink.sends[0]?.[0]).toEqual({
      taskType: OFFLINE_PUSH,
      userId: 'u1',
      conversationType: 'group',
      conversationId: 'g1',
      msgIds: ['m1'],
      messageCount: 1,
      lastSenderId: 'sender',
      createdAt: 42,
    });
  });

  it('publishes once the hold limit is reached, before drain', () => {
    const sink = new RecordingSink();
    const buffer = new PushTaskBuffer(sink, 2, () => 0, 3);
    buffer.add('u1', m('m1'));
    buffer.add('u2', m('m1'));
    expect(sink.sends).toHaveLength(0);
    buffer.add('u3', m('m1'));
    expect(sink.sends.map((s) => s.map((t) => t.userId))).toEqual([['u1', 'u2'], ['u3']]);
  });

  it('one task per member and group, covering every message missed, in order; none for the sender', async () => {
    const sink = new RecordingSink();
    const buffer = new PushTaskBuffer(sink, 10, () => 0, 10);
    buffer.add('u1', m('m1'));
    buffer.add('u1', m('m2', 'g1', 'other'));
    buffer.add('u1', m('m2', 'g1', 'other'));
    buffer.add('u1', m('m3', 'g2'));
    buffer.add('sender', m('m1'));
    await buffer.drain();
    const tasks = sink.sends.flat();
    expect(tasks.map((t) => [t.userId, t.conversationId, t.msgIds, t.messageCount, t.lastSenderId])).toEqual([
      ['u1', 'g1', ['m1', 'm2'], 2, 'other'],
      ['u1', 'g2', ['m3'], 1, 'sender'],
    ]);
  });

  it('drain fails when a send failed', async () => {
    const sink = new RecordingSink();
    sink.fail = true;
    const buffer = new PushTaskBuffer(sink, 10, () => 0, 10);
    buffer.add('u1', m('m1'));
    await expect(buffer.drain()).rejects.toMatchObject({ code: 'KAFKA_ERROR' });
  });
});
