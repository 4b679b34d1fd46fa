import { SetMetadata } from '@nestjs/common';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAtLeast(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

export const ROLE_KEY = 'fleet:role';
export const PUBLIC_KEY = 'fleet:public';

/**
 * The least role a route (or every route of a controller) needs. Without it, reads (GET/HEAD)
 * need `viewer` and everything else `operator`, so a route someone forgets to annotate is
 * never open to a read-only token.
 */
export const Roles = (role: Role) => SetMetadata(ROLE_KEY, role);

/** No token needed: health checks and the compatibility endpoints machines call. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
