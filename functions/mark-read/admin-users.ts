/**
 * Admin API for users: `POST /admin/v1/users` creates (or renames) a user so that
 * local use and tests need no separate user service. Admin tokens only.
 */
import { Router } from 'express';
import type { JwtAuth } from '../../shared/auth/jwt';
import { compile } from '../../shared/http/validate';
import type { UserStore } from '../../shared/storage/users';

interface CreateUserBody {
  user_id: string;
  display_name?: string;
}

const parseCreateUser = compile<CreateUserBody>({
  type: 'object',
  properties: {
    user_id: { type: 'string', pattern: '^[A-Za-z0-9_.:@-]{1,128}$' },
    display_name: { type: 'string', maxLength: 255 },
  },
  required: ['user_id'],
  additionalProperties: false,
});

export function adminUsersRouter(deps: { auth: JwtAuth; users: UserStore }): Router {
  const router = Router();
  router.post('/admin/v1/users', deps.auth.middleware({ admin: true }), async (req, res) => {
    const body = parseCreateUser(req.body);
    const { user, created } = await deps.users.upsert(body.user_id, body.display_name ?? '');
    res.status(created ? 201 : 200).json({
      user_id: user.userId,
      display_name: user.displayName,
      created_at: user.createdAt,
      created,
    });
  });
  return router;
}
