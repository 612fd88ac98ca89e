/**
 * The client API under /api/v1: the OpenAPI document (public), then Bearer JWT on
 * everything else, then the routes per resource. Other routers (e.g. group admin)
 * are mounted beside this one in function.ts.
 */
import { Router } from 'express';
import type { JwtAuth } from '../../shared/auth/jwt';
import { OPENAPI_DOCUMENT } from './openapi';

export function apiRouter(deps: { auth: JwtAuth; routers: readonly Router[] }): Router {
  const router = Router();
  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(OPENAPI_DOCUMENT);
  });
  router.use('/api/v1', deps.auth.middleware());
  for (const r of deps.routers) router.use(r);
  return router;
}
