/**
 * Who may see and change what.
 *
 * A model is `public` (every caller), `restricted` (callers sharing one of its `groups`) or
 * `admin_only`. A model a caller may not see behaves as if it did not exist: it is not listed,
 * not searchable, not runnable, and asking for it gives 404, so its name does not leak.
 */
import { ModelManagerError } from '../../errors.js';
import { isVisibleTo, type ModelFilter } from '../../registry/query.js';
import type { ModelMetadata } from '../../registry/schema.js';
import type { Caller, Role } from './api-keys.js';

const RANK: Record<Role, number> = { reader: 0, writer: 1, admin: 2 };

type Visible = Pick<ModelMetadata, 'accessLevel' | 'groups'>;

/** True when the caller may see (and run) the model. */
export function canSee(caller: Caller, model: Visible): boolean {
  return caller.role === 'admin' || isVisibleTo(model, caller.groups);
}

/** The filter that passes the models the caller may see (none needed for an admin), for the store to count and page with its indexes. */
export function visibleFilter(caller: Caller): ModelFilter {
  return caller.role === 'admin' ? {} : { visibleToGroups: caller.groups };
}

/** Throws FORBIDDEN unless the caller's role is at least `role`. */
export function requireRole(caller: Caller, role: Role, what: string): void {
  if (RANK[caller.role] < RANK[role]) {
    throw new ModelManagerError('FORBIDDEN', `${what} needs the ${role} role; user "${caller.user}" is a ${caller.role}`, {
      details: { required: role, role: caller.role },
    });
  }
}

/** The error for a model that is absent or hidden from the caller: the same in both cases, on purpose. */
export function modelNotFound(modelId: string): ModelManagerError {
  return new ModelManagerError('MODEL_NOT_FOUND', `model "${modelId}" is not registered; see GET /api/models`, { details: { modelId } });
}

/**
 * The error for an id a model the caller may not see already holds: that the id is taken cannot
 * be hidden (ids are unique), but nothing else about the model is told.
 */
export function modelIdTaken(modelId: string): ModelManagerError {
  return new ModelManagerError('MODEL_EXISTS', `model id "${modelId}" is already taken; choose another id`, { details: { modelId } });
}

/**
 * Checks the access fields a write would leave on a model. Admins may set anything; others may
 * only leave a model they can still see, restricted to groups they belong to, so no writer can
 * hide a model from its other users or lock it away from themselves.
 */
export function checkAccessResult(caller: Caller, next: Visible): void {
  if (caller.role === 'admin') return;
  const foreign = next.accessLevel === 'restricted' ? next.groups.filter((g) => !caller.groups.includes(g)) : [];
  if (next.accessLevel === 'admin_only' || foreign.length > 0 || !canSee(caller, next)) {
    throw new ModelManagerError('FORBIDDEN', `only an admin may make a model ${next.accessLevel}${foreign.length ? ` for groups ${foreign.join(', ')}` : ''}`, {
      details: { accessLevel: next.accessLevel, groups: next.groups, callerGroups: caller.groups },
    });
  }
}
