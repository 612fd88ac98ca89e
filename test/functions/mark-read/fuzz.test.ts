/**
 * Garbage of every shape, derived from the OpenAPI document: for every operation,
 * bodies mutated out of their schema, hostile query strings and path ids, raw
 * non-JSON and oversized bodies, and tokens missing, malformed, forged, expired or
 * meant for another audience or issuer. Every answer is a 4xx with a well-formed
 * `{ error: { code, message } }` (or, for a query that happens to be valid, a
 * response matching the document) — never a 5xx — and no stored row changes.
 */
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { ERROR_CODES } from '../../../shared/errors/codes';
import type { Host } from '../../../shared/runtime/host';
import type { Pool } from '../../../shared/storage/mysql';
import type { OperationSpec } from '../../../functions/mark-read/openapi';
import { testConfig, uid } from '../../support/env';
import { SchemaArbitraries } from './schema-arbitrary';
import {
  ApiClient,
  conversation,
  createGroup,
  insertGroupLog,
  insertInbox,
  openapi,
  snapshot,
  startMarkRead,
  type Reply,
} from './support';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 40);
const arbs = new SchemaArbitraries(openapi);
const apiOps = openapi.operations.filter((op) => op.secured && op.path.startsWith('/api/v1/'));
const bodyOps = apiOps.filter((op) => op.body);
const queryOps = apiOps.filter((op) => op.parameters.some((p) => p.in === 'query'));

const pathOf = (op: OperationSpec, msgId = 'some-message'): string => op.path.replace('{msg_id}', pct(msgId));

function expectError(r: Reply, context: string): void {
  const ok =
    r.status >= 400 &&
    r.status < 500 &&
    typeof r.body === 'object' &&
    r.body !== null &&
    openapi.checkResponse('markMessageRead', 400, r.body) === undefined;
  const code = (r.body as { error?: { code?: string } } | undefined)?.error?.code ?? '';
  if (!ok || !(code in ERROR_CODES) || /\bat \S+ \(|SELECT |INSERT |UPDATE |DELETE FROM|sqlMessage|ER_/.test(r.text)) {
    throw new Error(`${context}: ${r.status} ${r.text.slice(0, 300)}`);
  }
}

describe('fuzzing the API from its OpenAPI document', () => {
  let host: Host;
  let api: ApiClient;
  let pool: Pool;
  let token: string;
  let users: string[];
  let before: string;

  beforeAll(async () => {
    ({ host, api, pool } = await startMarkRead());
    const [user, peer] = [uid('fuzz'), uid('peer')];
    users = [user, peer];
    await insertInbox(pool, conversation(user, peer, 5));
    await insertInbox(pool, conversation(peer, user, 2));
    const g = await createGroup(pool, [peer, user]);
    await insertGroupLog(pool, [1, 2].map((s) => ({ groupId: g, senderId: peer, sequenceNumber: s })));
    token = await api.token(user);
    before = await snapshot(pool, users);
  });
  afterAll(async () => {
    // Nothing any request of this file sent changed a stored row.
    expect(await snapshot(pool, users)).toEqual(before);
    await host.stop();
  });

  it('derives inputs for every operation of the document', () => {
    expect(apiOps.map((o) => o.operationId).sort()).toEqual(
      ['deleteMessage', 'exportData', 'getOfflineCount', 'getReceipts', 'getUnreadCount', 'listOffline', 'listUnread', 'markConversationRead', 'markMessageRead'].sort(),
    );
    expect(bodyOps.length).toBe(2);
  });

  it.each(bodyOps.map((op) => [op.operationId, op] as const))('refuses bodies mutated out of the schema of %s', async (_id, op) => {
    await fc.assert(
      fc.asyncProperty(arbs.invalid(op.body?.schema ?? {}), async (body) => {
        const r = await api.call(op.method.toUpperCase(), pathOf(op), { token, body });
        expectError(r, `${op.operationId} ${JSON.stringify(body)?.slice(0, 200)}`);
        expect(r.status).toBe(400);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(bodyOps.map((op) => [op.operationId, op] as const))('answers valid-shaped bodies of %s without a 5xx', async (_id, op) => {
    await fc.assert(
      fc.asyncProperty(arbs.valid(op.body?.schema ?? {}), async (body) => {
        const r = await api.call(op.method.toUpperCase(), pathOf(op), { token, body });
        // Random ids name nothing of the caller's: 404, or 403/400 for a foreign user field or a future read_at.
        expectError(r, `${op.operationId} ${JSON.stringify(body)?.slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(queryOps.map((op) => [op.operationId, op] as const))('answers mutated query strings of %s with a 4xx or a valid response', async (_id, op) => {
    const params = op.parameters.filter((p) => p.in === 'query');
    const value = (p: (typeof params)[number]) =>
      fc.oneof(
        arbs.invalid(p.schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')),
        arbs.valid(p.schema).map(String),
        fc.string({ maxLength: 50 }),
        fc.constantFrom('', '%', '%zz', '\u0000', 'a'.repeat(9000), 'eyJ2IjoxfQ.AAAA', '[]', '-0', '1e2', '0x10'),
      );
    const query = fc
      .tuple(
        fc.record(Object.fromEntries(params.map((p) => [p.name, value(p)])), { requiredKeys: [] }),
        fc.option(fc.tuple(fc.constantFrom('unknown', 'limit', 'cursor', '__proto__', 'msg_id'), fc.string({ maxLength: 10 }))),
      )
      .map(([rec, extra]) => {
        const parts = Object.entries(rec).map(([k, v]) => `${k}=${pct(String(v))}`);
        if (extra) parts.push(`${pct(extra[0])}=${pct(extra[1])}`);
        return parts.join('&');
      });
    await fc.assert(
      fc.asyncProperty(query, async (qs) => {
        // Beyond Node's 16 KiB header limit the HTTP parser answers 431 itself (tested below).
        fc.pre(qs.length < 12_000);
        const r = await api.call('GET', `${op.path}?${qs}`, { token });
        if (r.status === 200) expect(openapi.checkResponse(op.operationId, 200, r.body)).toBeUndefined();
        else expectError(r, `${op.operationId} ?${qs.slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses hostile msg_ids in the path of DELETE /api/v1/messages/{msg_id}', async () => {
    const raw = [
      '..%2F..%2Fetc%2Fpasswd',
      '..',
      '%2e%2e',
      '.hidden',
      '%00',
      '%',
      '%zz',
      '%E0%A4%A',
      'a%2Fb',
      'x'.repeat(129),
      '%F0%9F%98%80',
      "1'%20OR%20'1'='1",
    ];
    for (const id of raw) {
      const r = await api.call('DELETE', `/api/v1/messages/${id}`, { token });
      expectError(r, `DELETE ${id}`);
    }
    const traversal = await api.call('DELETE', '/api/v1/messages/../../export', { token });
    expect(traversal.status).toBeLessThan(500);
    await fc.assert(
      fc.asyncProperty(arbs.invalid({ $ref: 'https://im-functions.local/openapi/schemas#/$defs/MsgId' }), async (bad) => {
        const id = typeof bad === 'string' ? bad : JSON.stringify(bad) ?? 'null';
        if (id === '') return;
        const r = await api.call('DELETE', `/api/v1/messages/${pct(id)}`, { token });
        expectError(r, `DELETE ${id.slice(0, 100)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses malformed, non-JSON, deeply nested and oversized bodies', async () => {
    const limit = testConfig().server.httpBodyLimit;
    const cases: { raw: string; type?: string; status: number; code: string }[] = [
      { raw: '{"msg_id": "x"', status: 400, code: 'INVALID_ARGUMENT' },
      { raw: '{"msg_id": "x",}', status: 400, code: 'INVALID_ARGUMENT' },
      { raw: "{'msg_id': 'x'}", status: 400, code: 'INVALID_ARGUMENT' },
      { raw: 'null', status: 400, code: 'INVALID_ARGUMENT' },
      { raw: '[]', status: 400, code: 'INVALID_ARGUMENT' },
      { raw: '"just a string"', status: 400, code: 'INVALID_ARGUMENT' },
      { raw: '\u0000\u0001binary', status: 400, code: 'INVALID_ARGUMENT' },
      { raw: '{"msg_id":"x"}', type: 'text/plain', status: 400, code: 'INVALID_ARGUMENT' },
      { raw: 'msg_id=x', type: 'application/x-www-form-urlencoded', status: 400, code: 'INVALID_ARGUMENT' },
      { raw: '['.repeat(30_000) + ']'.repeat(30_000), status: 400, code: 'INVALID_ARGUMENT' },
      { raw: JSON.stringify({ msg_id: 'x', pad: 'p'.repeat(limit) }), status: 413, code: 'MESSAGE_TOO_LARGE' },
      { raw: JSON.stringify({ msg_id: 'x', read_at: 1e400 }).replace('null', '1e400'), status: 400, code: 'INVALID_ARGUMENT' },
    ];
    for (const op of bodyOps) {
      for (const c of cases) {
        const r = await api.call(op.method.toUpperCase(), pathOf(op), {
          token,
          raw: c.raw,
          headers: { 'content-type': c.type ?? 'application/json' },
        });
        expectError(r, `${op.operationId} raw ${c.raw.slice(0, 40)}`);
        expect([r.status, (r.body as { error: { code: string } }).error.code]).toEqual([c.status, c.code]);
      }
      const none = await api.call(op.method.toUpperCase(), pathOf(op), { token });
      expect(none.status).toBe(400);
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => !isJson(s)), async (raw) => {
        const r = await api.call('POST', '/api/v1/messages/read', { token, raw });
        expectError(r, `raw ${JSON.stringify(raw)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(apiOps.map((op) => [op.operationId, op] as const))('refuses missing, malformed, forged, expired and foreign tokens on %s', async (_id, op) => {
    const cfg = testConfig().auth;
    const key = new TextEncoder().encode(cfg.jwtSecret);
    const sign = (mutate: (j: SignJWT) => SignJWT, secret = key) =>
      mutate(new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(users[0] as string).setIssuedAt())
        .sign(secret);
    const good = (j: SignJWT) => j.setAudience(cfg.audience).setIssuer(cfg.issuer).setExpirationTime('1h');
    const [header, payload] = token.split('.') as [string, string];
    const noneAlg = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const headers: (string | undefined)[] = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from('user:pass').toString('base64')}`,
      `bearer ${token}`,
      `Bearer ${token} extra`,
      'Bearer a.b.c',
      `Bearer ${header}.${payload}.${'A'.repeat(43)}`,
      `Bearer ${noneAlg}`,
      `Bearer ${await sign(good, new TextEncoder().encode('another-secret-another-secret-another-secret'))}`,
      `Bearer ${await sign((j) => j.setAudience(cfg.audience).setIssuer(cfg.issuer).setExpirationTime(Math.floor(Date.now() / 1000) - 60))}`,
      `Bearer ${await sign((j) => j.setAudience('someone-else').setIssuer(cfg.issuer).setExpirationTime('1h'))}`,
      `Bearer ${await sign((j) => j.setAudience(cfg.audience).setIssuer('evil').setExpirationTime('1h'))}`,
      `Bearer ${await sign((j) => good(j).setNotBefore(Math.floor(Date.now() / 1000) + 3600))}`,
      `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('../etc').setAudience(cfg.audience).setIssuer(cfg.issuer).setExpirationTime('1h').sign(key)}`,
    ];
    for (const h of headers) {
      const body = op.body ? { msg_id: 'm', conversation_id: 'p:a:b' } : undefined;
      const r = await api.call(op.method.toUpperCase(), pathOf(op), { headers: h === undefined ? {} : { authorization: h }, body });
      expectError(r, `${op.operationId} with ${String(h).slice(0, 30)}`);
      expect(r.status).toBe(401);
    }
  });

  it("answers a request line beyond Node's header limit with 431 and keeps serving", async () => {
    const r = await api.call('GET', `/api/v1/offline?cursor=${'x'.repeat(20_000)}`, { token });
    expect(r.status).toBe(431);
    expect((await api.call('GET', '/api/v1/offline/count', { token })).status).toBe(200);
  });

  it('serves the document itself without a token', async () => {
    const r = await api.call('GET', '/api/v1/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ openapi: '3.1.0' });
  });
});

/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD instead of throwing). */
function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
