/**
 * Key/value metadata of models and versions, the pure part: the API's rules (schemas/models.py: at most 20
 * entries, keys of 1–64 characters starting with a letter or digit, then letters, digits and _ . : / -, values of
 * at most 256), the editor's rows as typed, and the body they make. The rows are checked as typed (a bad or
 * repeated key at once); a value without its key only on submit, since a key may still be coming.
 */

export const METADATA_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;
export const MAX_METADATA_KEY = 64;
export const MAX_METADATA_VALUE = 256;
export const MAX_METADATA_ENTRIES = 20;
export const METADATA_RULE = `Keys: letters, digits and _ . : / - (starting with a letter or digit), up to ${MAX_METADATA_KEY} characters; values up to ${MAX_METADATA_VALUE}; at most ${MAX_METADATA_ENTRIES} entries.`;

export interface MetadataRow {
  /** Stable identity for React keys while rows are added and removed. */
  id: number;
  key: string;
  value: string;
}

export interface MetadataRowErrors {
  key?: string;
  value?: string;
}

export interface MetadataErrors {
  rows: Record<number, MetadataRowErrors>;
  general: string | null;
}

let nextId = 1;
export function metadataRow(key = "", value = ""): MetadataRow {
  return { id: nextId++, key, value };
}

/** The rows of a record's metadata, by key. */
export function rowsFromMetadata(metadata: Record<string, string> | undefined): MetadataRow[] {
  return metadataEntries(metadata).map(([k, v]) => metadataRow(k, v));
}

/** A record's metadata, sorted by key, to show. */
export function metadataEntries(metadata: Record<string, string> | undefined | null): [string, string][] {
  return Object.entries(metadata ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** Characters as the API counts them (code points, not UTF-16 units). */
function length(text: string): number {
  return [...text].length;
}

/** One key by the API's rule (also the list's metadata filter); null when it is fine. */
export function validateMetadataKey(key: string): string | null {
  if (!key) return "Enter a key.";
  if (length(key) > MAX_METADATA_KEY) return `Use at most ${MAX_METADATA_KEY} characters.`;
  if (!METADATA_KEY_PATTERN.test(key)) return "Start with a letter or digit; then use letters, digits and _ . : / - only.";
  return null;
}

/**
 * The rows' errors by row id, and a general one (too many entries). `complete`: the user is submitting, so a
 * value still without its key is an error too.
 */
export function validateMetadata(rows: readonly MetadataRow[], { complete }: { complete: boolean }): MetadataErrors {
  const out: Record<number, MetadataRowErrors> = {};
  const seen = new Set<string>();
  let count = 0;
  for (const row of rows) {
    const key = row.key.trim();
    const errors: MetadataRowErrors = {};
    if (!key) {
      if (complete && row.value.trim() !== "") errors.key = "Enter a key for this value.";
    } else {
      count++;
      const problem = validateMetadataKey(key);
      if (problem) errors.key = problem;
      else if (seen.has(key)) errors.key = "This key is already used.";
      seen.add(key);
    }
    if (length(row.value.trim()) > MAX_METADATA_VALUE) errors.value = `Use at most ${MAX_METADATA_VALUE} characters.`;
    if (errors.key || errors.value) out[row.id] = errors;
  }
  return { rows: out, general: count > MAX_METADATA_ENTRIES ? `At most ${MAX_METADATA_ENTRIES} entries.` : null };
}

export function hasMetadataErrors(errors: MetadataErrors): boolean {
  return errors.general !== null || Object.keys(errors.rows).length > 0;
}

/** The body's `metadata`: the rows with a key, trimmed; rows left empty are dropped. */
export function metadataObject(rows: readonly MetadataRow[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const row of rows) if (row.key.trim()) metadata[row.key.trim()] = row.value.trim();
  return metadata;
}

export function sameMetadata(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && b[k] === a[k]);
}

/**
 * Where the API's field errors about metadata belong: "metadata.<key>…" on the row with that key, "metadata"
 * (or a key no row has) in the general line. Other fields are not these.
 */
export function metadataErrorsFromApi(
  details: readonly { field: string; message: string }[],
  rows: readonly MetadataRow[],
): MetadataErrors {
  const out: MetadataErrors = { rows: {}, general: null };
  const general: string[] = [];
  for (const { field, message } of details) {
    if (field === "metadata") {
      general.push(message);
    } else if (field.startsWith("metadata.")) {
      // "metadata.<key>": the API names a bad key and a bad value alike; a key that breaks the key rule is the culprit.
      const key = field.slice("metadata.".length);
      const row = rows.find((r) => r.key.trim() === key);
      if (row) out.rows[row.id] = { ...out.rows[row.id], [validateMetadataKey(key) ? "key" : "value"]: message };
      else general.push(`${key}: ${message}`);
    }
  }
  out.general = general.length ? general.join(" ") : null;
  return out;
}
