/**
 * `npm run token -- <user_id>` prints a user token; `npm run token -- --admin` an
 * admin token — HS256 with JWT_SECRET (development default unless set), 12 h.
 */
import { loadConfigOrExit } from '../runtime/main';
import { JwtAuth, USER_ID_PATTERN } from './jwt';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const admin = args.includes('--admin');
  const userId = args.find((a) => !a.startsWith('--')) ?? (admin ? 'admin' : undefined);
  if (!userId || !USER_ID_PATTERN.test(userId)) {
    process.stderr.write('usage: npm run token -- <user_id> | --admin\n');
    process.exit(2);
  }
  const auth = new JwtAuth(loadConfigOrExit().auth);
  process.stdout.write(`${await auth.sign(userId, { admin })}\n`);
}

void main();
