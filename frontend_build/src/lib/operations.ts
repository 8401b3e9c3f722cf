/**
 * Reading the operations log: runs of identical entries become one row with a count. The API already
 * keeps a run as one line (`count`, `lastAt`); lines from before it did, or a run a page boundary cut, are joined here.
 */
import type { OperationLogEntry } from "../api/types";

export interface OperationRow {
  /** The newest entry of the run. */
  entry: OperationLogEntry;
  count: number;
  /** When the latest of the run happened. */
  newest: string;
  /** When the run began (the oldest entry's time). */
  oldest: string;
}

function same(a: OperationLogEntry, b: OperationLogEntry): boolean {
  return (
    a.actor === b.actor &&
    a.action === b.action &&
    a.fromStatus === b.fromStatus &&
    a.toStatus === b.toStatus &&
    a.result === b.result &&
    a.reason === b.reason
  );
}

/** Collapses consecutive identical entries (newest first in, newest first out). */
export function collapseRepeats(entries: readonly OperationLogEntry[]): OperationRow[] {
  const rows: OperationRow[] = [];
  for (const entry of entries) {
    const last = rows[rows.length - 1];
    const count = entry.count ?? 1;
    if (last && same(last.entry, entry)) {
      last.count += count;
      last.oldest = entry.at;
    } else {
      rows.push({ entry, count, newest: entry.lastAt ?? entry.at, oldest: entry.at });
    }
  }
  return rows;
}
