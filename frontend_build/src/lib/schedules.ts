/**
 * Start/stop schedules in the model form: rows as typed, their checks (mirroring the API's, which
 * stays the authority), and the API body they become.
 */
import type { Schedule, ScheduleAction, ScheduleSpec } from "../api/types";

export const MAX_SCHEDULES = 10;
export const DEFAULT_TIMEZONE = "UTC";

export interface ScheduleRow {
  /** Stable identity for React keys while rows are added and removed. */
  id: number;
  action: ScheduleAction;
  cron: string;
  timezone: string;
}

export type ScheduleRowErrors = { cron?: string; timezone?: string };

let nextRowId = 1;
export function scheduleRow(action: ScheduleAction = "start", cron = "", timezone = DEFAULT_TIMEZONE): ScheduleRow {
  return { id: nextRowId++, action, cron, timezone };
}

export function rowsFromSchedules(schedules: readonly Schedule[]): ScheduleRow[] {
  return schedules.map((s) => scheduleRow(s.action, s.cron, s.timezone));
}

// Each field: its name as people say it and its range; names of months and days are also accepted.
const FIELDS: readonly { name: string; low: number; high: number }[] = [
  { name: "minute", low: 0, high: 59 },
  { name: "hour", low: 0, high: 23 },
  { name: "day-of-month", low: 1, high: 31 },
  { name: "month", low: 1, high: 12 },
  { name: "day-of-week", low: 0, high: 7 },
];
const FIELD_TEXT = /^[0-9A-Za-z*,/#-]+$/;

function fieldIsValid(part: string, low: number, high: number): boolean {
  if (!FIELD_TEXT.test(part) || !/[\d*A-Za-z]/.test(part)) return false;
  // A step (*/15) may be any size; the other numbers must be in the field's range.
  const numbers = part.split(",").flatMap((term) => term.split("/")[0]?.match(/\d+/g) ?? []);
  return numbers.every((n) => Number(n) >= low && Number(n) <= high);
}

export function validateCron(cron: string): string | null {
  const parts = cron.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "Enter a cron expression, such as 0 8 * * 1-5 (08:00 on weekdays).";
  if (parts.length !== 5) return "Use 5 fields: minute hour day-of-month month day-of-week, such as 0 8 * * 1-5.";
  const wrong = FIELDS.find(({ low, high }, index) => !fieldIsValid(parts[index] ?? "", low, high));
  if (wrong) return `The ${wrong.name} field is not valid: use ${wrong.low}-${wrong.high}, *, lists (1,3), ranges (1-5) or steps (*/15).`;
  return null;
}

export function validateTimezone(zone: string): string | null {
  if (!zone.trim()) return "Enter a time zone, such as Europe/Berlin or UTC.";
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone.trim() });
  } catch {
    return "Not a known time zone: use an IANA name such as Europe/Berlin, America/New_York or UTC.";
  }
  return null;
}

/** Errors per row (by row id) plus a general one (too many schedules). */
export function validateSchedules(rows: readonly ScheduleRow[]): {
  rows: Record<number, ScheduleRowErrors>;
  general: string | null;
} {
  const out: Record<number, ScheduleRowErrors> = {};
  for (const row of rows) {
    const errors: ScheduleRowErrors = {};
    const cron = validateCron(row.cron);
    if (cron) errors.cron = cron;
    const zone = validateTimezone(row.timezone);
    if (zone) errors.timezone = zone;
    if (errors.cron || errors.timezone) out[row.id] = errors;
  }
  return { rows: out, general: rows.length > MAX_SCHEDULES ? `At most ${MAX_SCHEDULES} schedules.` : null };
}

export function schedulesBody(rows: readonly ScheduleRow[]): ScheduleSpec[] {
  return rows.map((r) => ({ action: r.action, cron: r.cron.trim().split(/\s+/).join(" "), timezone: r.timezone.trim() }));
}

export function sameSchedules(a: readonly ScheduleSpec[], b: readonly ScheduleSpec[]): boolean {
  const zone = (s: ScheduleSpec | undefined) => s?.timezone ?? DEFAULT_TIMEZONE;
  return a.length === b.length && a.every((s, i) => s.action === b[i]?.action && s.cron === b[i]?.cron && zone(s) === zone(b[i]));
}

/** The browser's own zone, offered as the default for a new schedule (office hours are local). */
export function browserTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || DEFAULT_TIMEZONE;
}
