/**
 * What each role may do in the console, mirroring the server (which enforces it with 403s):
 * viewer reads everything; editor also changes models (create, edit, delete, upload, start, stop,
 * predict); admin also manages client tokens and a project's members. A user without a role may do nothing.
 *
 * Roles hold per project: a stage-wide role (a Cognito group) holds in every project, and a membership
 * can raise it in one project (GET /me lists each project the user has a role in, with the higher of the
 * two). So a model's controls follow the role in the model's project, falling back to the stage role
 * for a project /me does not list.
 */
export const ROLES = ["viewer", "editor", "admin"] as const;
export type Role = (typeof ROLES)[number];

export type Action =
  | "view"
  | "create"
  | "edit"
  | "delete"
  | "upload"
  | "lifecycle"
  | "predict"
  | "clients"
  | "members"
  | "createProject"
  | "deleteProject"
  | "setQuota";

const NEEDS: Record<Action, Role> = {
  view: "viewer",
  create: "editor",
  edit: "editor",
  delete: "editor",
  upload: "editor",
  lifecycle: "editor",
  predict: "editor",
  clients: "admin",
  members: "admin",
  createProject: "admin",
  deleteProject: "admin",
  setQuota: "admin",
};

/**
 * What only the stage's admins may do (the API's "stage-admin" routes): asked of the stage role alone, since a
 * project's own admins could otherwise delete their project or lift its quota.
 */
export const STAGE_ACTIONS: ReadonlySet<Action> = new Set<Action>(["createProject", "deleteProject", "setQuota"]);

function rank(role: Role | null | undefined): number {
  return role ? ROLES.indexOf(role) + 1 : 0;
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** The higher of two roles (null is below viewer). */
export function higher(a: Role | null | undefined, b: Role | null | undefined): Role | null {
  return (rank(a) >= rank(b) ? a : b) ?? null;
}

/** The highest role among Cognito groups (claim `cognito:groups`). */
export function roleFromGroups(groups: unknown): Role | null {
  if (!Array.isArray(groups)) return null;
  let best: Role | null = null;
  for (const g of groups) if (isRole(g) && rank(g) > rank(best)) best = g;
  return best;
}

/** One project the user has a role in (GET /me `projects`). */
export interface ProjectRole {
  name: string;
  role: Role;
}

/** Everything the console knows of a user's roles: stage-wide, and per project. */
export interface Roles {
  stage: Role | null;
  projects: readonly ProjectRole[];
}

/** The user's role in one project: the higher of the stage role and the membership there. */
export function roleIn(roles: Roles, project: string): Role | null {
  return higher(roles.stage, roles.projects.find((p) => p.name === project)?.role);
}

/** The highest role the user holds anywhere (to offer a control that a choice of project may allow). */
export function bestRole(roles: Roles): Role | null {
  return roles.projects.reduce<Role | null>((best, p) => higher(best, p.role), roles.stage);
}

/** The projects /me lists where the user may do `action`, by name. */
export function projectsAllowing(roles: Roles, action: Action): string[] {
  return roles.projects.filter((p) => can(roleIn(roles, p.name), action)).map((p) => p.name);
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
  members: "manage its members",
  createProject: "create projects",
  deleteProject: "delete projects",
  setQuota: "change a project's quota",
};

/** The tooltip of a control the role does not allow; null when allowed. `project` says where the role holds. */
export function deniedReason(role: Role | null | undefined, action: Action, project?: string): string | null {
  if (can(role, action)) return null;
  const needed = NEEDS[action];
  const who = (role ? `the ${role} role` : "no role") + (project ? ` in project ${project}` : "");
  if (STAGE_ACTIONS.has(action)) return `You have ${who}: only the stage's admins can ${WHAT[action]}.`;
  const whom = needed === "admin" ? (project ? "its admins" : "admins") : "editors and admins";
  return `You have ${who}: only ${whom} can ${WHAT[action]}.`;
}

/**
 * Why a stage-wide action (`STAGE_ACTIONS`) is not the user's, or null when their stage role allows it. A
 * project's admins are told it is not theirs despite their role there (named, with `project`).
 */
export function stageDeniedReason(roles: Roles, action: Action, project?: string): string | null {
  if (can(roles.stage, action)) return null;
  const role = project ? roleIn(roles, project) : roles.stage;
  const who = (role ? `the ${role} role` : "no role") + (project ? ` in project ${project}` : "");
  return `You have ${who}: only the stage's admins can ${WHAT[action]}.`;
}
