import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-deps';

/** Placeholder: being written. */
export function costRoutes(_app: FastifyInstance, _deps: ApiDeps): void {}
