/**
 * Migrations on real MariaDB, applied the way operators apply them (the migrate
 * bundle), to a throwaway database: every table exists, the version table records
 * it, and a second run is a no-op.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { loadConfig } from '../../shared/config';

const root = join(__dirname, '../..');
const db = loadConfig(process.env).db;
const database = `im_test_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;

const runMigrate = (env: Record<string, string> = {}): string =>
  execFileSync(process.execPath, [join(root, 'dist/migrate/index.js')], {
    env: { ...process.env, DB_NAME: database, ...env },
    encoding: 'utf8',
  });

describe('migrations (real MariaDB)', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'build.mjs'), 'migrate'], { cwd: root, stdio: 'ignore' });
  });
  afterAll(async () => {
    const conn = await createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await conn.end();
  });

  it('applies every migration once and records the version', async () => {
    const latest = Math.max(...readdirSync(join(root, 'migrations')).map((f) => Number(f.split('.')[0])));
    expect(runMigrate()).toContain(`${database} 0 -> ${latest}`);
    expect(runMigrate()).toContain(`is at version ${latest}, nothing to apply`);

    const conn = await createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database });
    const [tables] = await conn.query<RowDataPacket[]>('SHOW TABLES');
    const names = tables.map((r) => Object.values(r)[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'users',
        'offline_messages',
        'read_receipts',
        'groups',
        'group_members',
        'sequence_reservations',
        'group_messages',
        'group_read_positions',
        'schemaversion',
      ]),
    );
    const [versions] = await conn.query<RowDataPacket[]>('SELECT MAX(version) AS v FROM schemaversion');
    expect(Number(versions[0]?.['v'])).toBe(latest);
    // The inbox's idempotency rests on this key: a second row for (user, msg) is refused.
    const row = [`u1`, `m1`, 's', 'private', 'p:s:u1', 1, Buffer.from('x'), 0, 0, 1];
    const insert = `INSERT INTO offline_messages (user_id, msg_id, sender_id, conversation_type, conversation_id,
      sequence_number, content, client_timestamp, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)`;
    await conn.execute(insert, row);
    await expect(conn.execute(insert, row)).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
    await conn.end();
  });

  it("reads only the database settings: the functions' other settings cannot stop it", () => {
    // The chart's Job gets the functions' config; encryption without a key is theirs to refuse.
    expect(runMigrate({ ENCRYPTION_ENABLED: 'true', FILTER_ACTION: 'nonsense' })).toContain('nothing to apply');
    expect(() => runMigrate({ DB_PORT: 'x' })).toThrow(/DB_PORT/);
  });
});
