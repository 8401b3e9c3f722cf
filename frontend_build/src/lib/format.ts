/** Formatting for display: times in the user's zone (UTC on hover), sizes, durations, numbers. */

/** "2024-05-01 12:00:00 UTC": the exact instant, for the title attribute. */
export function formatUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Date and time in the user's time zone (or `timeZone`, for tests). */
export function formatLocal(iso: string, timeZone?: string, locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || "—";
  return new Intl.DateTimeFormat(locale, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZone,
  }).format(d);
}

/** Time of day only, for log lines. */
export function formatClock(iso: string, timeZone?: string, locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
    timeZone,
  }).format(d);
}

/** "3 min ago"; "in 2 h" for the future. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return "";
  const seconds = Math.round((now - t) / 1000);
  const abs = Math.abs(seconds);
  let text: string;
  if (abs < 45) return "just now";
  if (abs < 3600) text = `${Math.round(abs / 60)} min`;
  else if (abs < 86400) text = `${Math.round(abs / 3600)} h`;
  else text = `${Math.round(abs / 86400)} d`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** Bytes in binary units: 0 B, 999 B, 1.5 KB, 12 MB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = "B";
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 1;
  return `${value.toFixed(digits).replace(/\.0$/, "")} ${unit}`;
}

/** Milliseconds as a short duration: 0.8 ms, 42 ms, 1.25 s, 2 min 5 s. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 0) ms = 0;
  if (ms < 10) return `${Number(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  if (minutes < 60) return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/** vCPU: 0.25 -> "0.25 vCPU"; memory: 0.5 -> "0.5 GB". */
/** US dollars with enough digits to show small amounts (a fraction of a cent per 1,000 predictions). */
export function formatUsd(value: number): string {
  if (value === 0) return "$0";
  const digits = value >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(value)));
  return `$${value.toFixed(digits)}`;
}

export function formatCpu(cpu: number): string {
  return `${cpu} vCPU`;
}

export function formatMemory(gb: number): string {
  return `${gb} GB`;
}

export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return `${Number(value.toFixed(digits))}%`;
}

/** Pretty-prints JSON text when it is JSON; returns it unchanged otherwise. */
export function prettyJson(text: string | null | undefined): string {
  if (text === null || text === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Class of an HTTP status for badges: "2xx", "4xx", "5xx". */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

export interface LogView {
  level: string | null;
  text: string;
}

/**
 * A container log line for reading: structured JSON lines ({"level", "message", ...}) become
 * "message key=value ..." with the level apart; anything else is shown as it is.
 */
export function formatLogMessage(raw: string): LogView {
  const trimmed = raw.trim();
  if (!trimmed.startsWith("{")) return { level: null, text: raw };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { level: null, text: raw };
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { level: null, text: raw };
  const { level, message, msg, time: _time, timestamp: _ts, ...rest } = parsed as Record<string, unknown>;
  const main = typeof message === "string" ? message : typeof msg === "string" ? msg : "";
  const extras = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return {
    level: typeof level === "string" ? level.toUpperCase() : null,
    text: [main, ...extras].filter(Boolean).join(" "),
  };
}

/** A server's message ("no user with …") as a sentence: capital first letter, a full stop at the end. */
export function sentence(message: string): string {
  const text = message.trim();
  if (!text) return text;
  const capital = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
