/**
 * GET /api/v1/messages/unread/count is answered by the host before express (a direct
 * route, shared/runtime/types.ts) unless the request carries a body; both ways must
 * answer every request alike — status, content type and body — for good and bad
 * tokens, legacy and unknown query fields, HEAD, and express's path matching (case,
 * trailing slash). Which way served a request is told by express's res.json, which
 * only the express route calls.
 */
import { request } from 'node:http';
import express from 'express';
import { SignJWT } from 'jose';
import type { Host } from '../../../shared/runtime/host';
import type { Pool } from '../../../shared/storage/mysql';
import { testConfig, uid } from '../../support/env';
import { ApiClient, conversation, createGroup, insertGroupLog, insertInbox, startMarkRead } from './support';

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
}

describe('unread count: direct route and express route', () => {
  let host: Host;
  let api: ApiClient;
  let pool: Pool;

  beforeAll(async () => {
    ({ host, api, pool } = await startMarkRead());
  });
  afterAll(() => host.stop());

  /** One request; `viaExpress` adds an empty body (Content-Length: 0), which only express takes. */
  const send = (method: string, path: string, headers: Record<string, string>, viaExpress: boolean): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: host.httpPort, method, path, headers: viaExpress ? { ...headers, 'content-length': '0' } : headers },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('answers every request the same both ways', async () => {
    const user = uid('u');
    const other = uid('o');
    await insertInbox(pool, conversation(user, other, 4));
    const g = await createGroup(pool, [other, user]);
    await insertGroupLog(pool, [
      { groupId: g, senderId: other, sequenceNumber: 1 },
      { groupId: g, senderId: other, sequenceNumber: 2 },
    ]);
    const token = await api.token(user);
    const cfg = testConfig().auth;
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setAudience(cfg.audience)
      .setIssuer(cfg.issuer)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });
    const path = '/api/v1/messages/unread/count';
    const cases: { name: string; method?: string; path?: string; headers: Record<string, string>; status: number }[] = [
      { name: 'valid', headers: bearer(token), status: 200 },
      { name: 'legacy user_id of the caller', path: `${path}?user_id=${user}`, headers: bearer(token), status: 200 },
      { name: 'upper case, trailing slash', path: `${path.toUpperCase()}/`, headers: bearer(token), status: 200 },
      { name: 'HEAD', method: 'HEAD', headers: bearer(token), status: 200 },
      { name: 'no token', headers: {}, status: 401 },
      { name: 'malformed token', headers: bearer('not.a token'), status: 401 },
      { name: 'forged token', headers: bearer(forged), status: 401 },
      { name: 'no token and a bad query', path: `${path}?nope=1`, headers: {}, status: 401 },
      { name: 'another user_id', path: `${path}?user_id=${other}`, headers: bearer(token), status: 403 },
      { name: 'user_id twice', path: `${path}?user_id=${user}&user_id=${user}`, headers: bearer(token), status: 400 },
      { name: 'unknown query field', path: `${path}?nope=1`, headers: bearer(token), status: 400 },
    ];
    const json = jest.spyOn(express.response, 'json');
    try {
      for (const c of cases) {
        json.mockClear();
        const direct = await send(c.method ?? 'GET', c.path ?? path, c.headers, false);
        expect({ case: c.name, directUsedExpress: json.mock.calls.length }).toEqual({ case: c.name, directUsedExpress: 0 });
        const viaExpress = await send(c.method ?? 'GET', c.path ?? path, c.headers, true);
        expect({ case: c.name, expressUsedExpress: json.mock.calls.length > 0 }).toEqual({ case: c.name, expressUsedExpress: true });
        expect({ case: c.name, ...direct }).toEqual({ case: c.name, ...viaExpress });
        expect({ case: c.name, status: direct.status }).toEqual({ case: c.name, status: c.status });
      }
    } finally {
      json.mockRestore();
    }
    const counted = await send('GET', path, bearer(token), false);
    expect(JSON.parse(counted.body)).toEqual({ count: 6, private_count: 4, group_count: 2 });
    expect(counted.contentType).toBe('application/json; charset=utf-8');
  });
});
