/**
 * mark-read: the client HTTP API (read receipts, inbox, unread counts, GDPR) and the
 * admin API, all behind Bearer JWT.
 */
import { Router } from 'express';
import { JwtAuth } from '../../shared/auth/jwt';
import { UserStore } from '../../shared/storage/users';
import type { FunctionDefinition } from '../../shared/runtime/types';
import { adminUsersRouter } from './admin-users';

export const markRead: FunctionDefinition = {
  name: 'mark-read',
  needs: ['mysql', 'redis', 'kafka'],
  async create({ config, deps }) {
    const auth = new JwtAuth(config.auth);
    const users = new UserStore(deps.mysql());
    const http = Router();
    http.use(adminUsersRouter({ auth, users }));
    return { http };
  },
};
