/**
 * What each role may do in the console, mirroring the server (which enforces it with 403s):
 * viewer reads everything; editor also changes models (create, edit, delete, upload, start, stop,
 * predict); admin also manages client tokens. A user without a role may do nothing.
 */
export const ROLES = ["viewer", "editor", "admin"] as const;
export type Role = (typeof ROLES)[number];

export type Action = "view" | "create" | "edit" | "delete" | "upload" | "lifecycle" | "predict" | "clients";

const NEEDS: Record<Action, Role> = {
  view: "viewer",
  create: "editor",
  edit: "editor",
  delete: "editor",
  upload: "editor",
  lifecycle: "editor",
  predict: "editor",
  clients: "admin",
};

function rank(role: Role | null | undefined): number {
  return role ? ROLES.indexOf(role) + 1 : 0;
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** The highest role among Cognito groups (claim `cognito:groups`). */
export function roleFromGroups(groups: unknown): Role | null {
  if (!Array.isArray(groups)) return null;
  let best: Role | null = null;
  for (const g of groups) if (isRole(g) && rank(g) > rank(best)) best = g;
  return best;
}

export function can(role: Role | null | undefined, action: Action): boolean {
  return rank(role) >= rank(NEEDS[action]);
}

const WHAT: Record<Action, string> = {
  view: "view models",
  create: "add models",
  edit: "edit models",
  delete: "delete models",
  upload: "upload model files",
  lifecycle: "start and stop models",
  predict: "send predictions from the console",
  clients: "manage client tokens",
};

/** The tooltip of a control the role does not allow; null when allowed. */
export function deniedReason(role: Role | null | undefined, action: Action): string | null {
  if (can(role, action)) return null;
  const needed = NEEDS[action];
  const who = role ? `the ${role} role` : "no role";
  return `You have ${who}: only ${needed === "admin" ? "admins" : "editors and admins"} can ${WHAT[action]}.`;
}
