/**
 * Projects, the pure part: the name rule (the API's), which project the switcher shows once the
 * visible projects are known, where a new model goes by default, and what the model form offers.
 */
import { DEFAULT_PROJECT } from "../api/types";

/** The API's rule (domain/projects.py PROJECT_NAME). */
export const PROJECT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const MAX_PROJECT_NAME = 40;
export const MAX_PROJECT_DESCRIPTION = 2048;
export const PROJECT_NAME_RULE = "1–40 characters: lowercase letters, digits and hyphens, starting with a letter.";

export function validateProjectName(name: string): string | null {
  if (!name) return "Enter a name.";
  if (name.length > MAX_PROJECT_NAME) return `Use at most ${MAX_PROJECT_NAME} characters.`;
  if (!/^[a-z]/.test(name)) return "Start with a lowercase letter a-z.";
  if (!PROJECT_NAME_PATTERN.test(name)) return "Use only lowercase letters a-z, digits 0-9 and hyphens (-).";
  return null;
}

/** Where the switcher's choice is kept: per user, so two people on one browser do not share it. */
export function projectStorageKey(username: string): string {
  return `kraken.project.${username}`;
}

/**
 * The project the switcher shows: the remembered one while the visible projects are not known yet, or when
 * it is among them; otherwise all projects (it was deleted, or the user lost their role in it).
 */
export function chooseProject(remembered: string | null, visible: readonly string[] | undefined): string | null {
  if (!remembered) return null;
  if (!visible) return remembered;
  return visible.includes(remembered) ? remembered : null;
}

/** Where a new model goes unless the user picks another: the switcher's project, else "default", else the first allowed. */
export function defaultProjectFor(selected: string | null, allowed: readonly string[]): string {
  if (selected && allowed.includes(selected)) return selected;
  if (allowed.includes(DEFAULT_PROJECT) || allowed.length === 0) return DEFAULT_PROJECT;
  return allowed[0] ?? DEFAULT_PROJECT;
}

/** The model form's choices: the projects the user may create models in, and the model's own (kept when editing). */
export function projectChoices(allowed: readonly string[], current?: string): string[] {
  const names = new Set(allowed);
  if (current) names.add(current);
  if (names.size === 0) names.add(DEFAULT_PROJECT);
  return [...names].sort((a, b) => (a === DEFAULT_PROJECT ? -1 : b === DEFAULT_PROJECT ? 1 : a.localeCompare(b)));
}
