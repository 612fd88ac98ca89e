/**
 * The content steps of route-private against the real servers: FILTER_ACTION=block
 * refuses with CONTENT_BLOCKED (and a retry is refused the same way without drawing
 * another number), FILTER_ACTION=replace masks what devices and the inbox get, and
 * ENCRYPTION_ENABLED seals the inbox copy (bound to the msg_id) while devices get text.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContentCrypto } from '../../../shared/crypto';
import { eventually, testConfig } from '../../support/env';
import { msgId, startRig, type Rig } from './rig';

const wordlist = (): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'rp-words-')), 'words.txt');
  writeFileSync(path, 'badword\n坏词\n');
  return path;
};

describe('route-private with FILTER_ACTION=block', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ FILTER_ENABLED: 'true', FILTER_ACTION: 'block', FILTER_WORDLIST_PATH: wordlist() });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('refuses blocked content with CONTENT_BLOCKED, delivers and stores nothing, and a retry gets the same answer', async () => {
    const alice = await rig.user('alice');
    const bob = await rig.user('bob');
    const { gw } = await rig.gateway(bob, ['phone']);
    const id = msgId();
    const before = await rig.topicCount();

    const err = await rig.sendError({ msgId: id, senderId: alice, recipientId: bob, content: 'such a BADWORD here' });
    expect(err.code).toBe('CONTENT_BLOCKED');
    expect((await rig.sendError({ msgId: id, senderId: alice, recipientId: bob, content: 'such a BADWORD here' })).code).toBe(
      'CONTENT_BLOCKED',
    );
    expect(gw.pushesOf(id)).toEqual([]);
    expect(await rig.topicCount()).toBe(before);
    expect((await rig.status(id)).status).toBe('failed');

    // Only the first attempt drew a number: the next message of the pair takes the one after it.
    const first = await rig.send({ senderId: alice, recipientId: bob, content: 'clean' });
    expect(first.sequenceNumber).toBe(2);
  });
});

describe('route-private with FILTER_ACTION=replace and ENCRYPTION_ENABLED', () => {
  let rig: Rig;
  const key = randomBytes(32).toString('base64');
  beforeAll(async () => {
    rig = await startRig({
      FILTER_ENABLED: 'true',
      FILTER_ACTION: 'replace',
      FILTER_WORDLIST_PATH: wordlist(),
      ENCRYPTION_ENABLED: 'true',
      ENCRYPTION_KEY: key,
    });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('devices get the masked text; the inbox copy is sealed and opens with the msg_id to the same text', async () => {
    const alice = await rig.user('alice');
    const bob = await rig.user('bob');
    const { gw } = await rig.gateway(bob, ['phone']);
    const id = msgId();

    const res = await rig.send({ msgId: id, senderId: alice, recipientId: bob, content: 'a badword and 坏词!' });

    expect(res.status).toBe('delivered');
    expect(gw.pushesOf(id)[0]?.message.content).toBe('a ******* and **!');
    const rec = await eventually(async () => (await rig.records()).find((r) => r.msgId === id), 20000);
    expect(rec.content?.body?.$case).toBe('sealed');
    const crypto = await createContentCrypto(testConfig({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: key }).encryption);
    expect(await crypto.openContent(rec.content, id)).toBe('a ******* and **!');
    await expect(crypto.openContent(rec.content, 'another-msg-id')).rejects.toMatchObject({ code: 'ENCRYPTION_ERROR' });
  });
});
