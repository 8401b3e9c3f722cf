import { describe, expect, it } from "vitest";
import {
  MAX_METADATA_ENTRIES,
  hasMetadataErrors,
  metadataEntries,
  metadataErrorsFromApi,
  metadataObject,
  metadataRow,
  rowsFromMetadata,
  sameMetadata,
  validateMetadata,
  validateMetadataKey,
} from "./metadata";

describe("metadata keys", () => {
  it("follow the API's rule: 1-64 characters, a letter or digit first, then letters, digits and _ . : / -", () => {
    for (const ok of ["team", "Team2", "9lives", "app.kubernetes.io/name", "a:b_c-d", "k".repeat(64)]) {
      expect(validateMetadataKey(ok)).toBeNull();
    }
    expect(validateMetadataKey("")).toBe("Enter a key.");
    expect(validateMetadataKey("k".repeat(65))).toBe("Use at most 64 characters.");
    for (const bad of ["-team", "_team", ".team", "team name", "team=x", "tëam", "team\n"]) {
      expect(validateMetadataKey(bad)).toBe("Start with a letter or digit; then use letters, digits and _ . : / - only.");
    }
  });
});

describe("metadata rows", () => {
  it("are checked row by row, keys as typed and a lone value only when complete", () => {
    const rows = [
      metadataRow("team", "fraud"),
      metadataRow("team", "again"),
      metadataRow("bad key", ""),
      metadataRow("", "no key yet"),
      metadataRow("long", "v".repeat(257)),
      metadataRow("", ""),
    ];
    const typing = validateMetadata(rows, { complete: false });
    expect(typing.rows).toEqual({
      [rows[1]!.id]: { key: "This key is already used." },
      [rows[2]!.id]: { key: "Start with a letter or digit; then use letters, digits and _ . : / - only." },
      [rows[4]!.id]: { value: "Use at most 256 characters." },
    });
    expect(validateMetadata(rows, { complete: true }).rows[rows[3]!.id]).toEqual({ key: "Enter a key for this value." });
    expect(typing.general).toBeNull();
    expect(hasMetadataErrors(typing)).toBe(true);
    expect(hasMetadataErrors(validateMetadata([metadataRow("a", "")], { complete: true }))).toBe(false);
  });

  it("counts characters as the API does (an emoji is one), and at most 20 entries", () => {
    expect(validateMetadata([metadataRow("k", "🙂".repeat(256))], { complete: true }).rows).toEqual({});
    const many = Array.from({ length: MAX_METADATA_ENTRIES + 1 }, (_, i) => metadataRow(`k${i}`, "v"));
    expect(validateMetadata(many, { complete: true }).general).toBe("At most 20 entries.");
    expect(validateMetadata(many.slice(1), { complete: true }).general).toBeNull();
  });

  it("make the body's map, trimmed, without empty rows; and come back from a record sorted by key", () => {
    expect(metadataObject([metadataRow(" team ", " fraud "), metadataRow("", ""), metadataRow("flag", "")])).toEqual({
      team: "fraud",
      flag: "",
    });
    expect(rowsFromMetadata({ z: "1", a: "2" }).map((r) => r.key)).toEqual(["a", "z"]);
    expect(metadataEntries(undefined)).toEqual([]);
    expect(sameMetadata({ a: "1" }, { a: "1" })).toBe(true);
    expect(sameMetadata({ a: "1" }, { a: "2" })).toBe(false);
    expect(sameMetadata({ a: "1" }, { a: "1", b: "" })).toBe(false);
  });

  it("take the API's errors: a bad key on its key, a bad value on its value, the rest in the general line", () => {
    const rows = [metadataRow("bad key", "x"), metadataRow("team", "x")];
    const placed = metadataErrorsFromApi(
      [
        { field: "metadata.bad key", message: "String should match pattern" },
        { field: "metadata.team", message: "String should have at most 256 characters" },
        { field: "metadata.gone", message: "no such row" },
        { field: "metadata", message: "Dictionary should have at most 20 items" },
        { field: "notes", message: "not mine" },
      ],
      rows,
    );
    expect(placed.rows).toEqual({
      [rows[0]!.id]: { key: "String should match pattern" },
      [rows[1]!.id]: { value: "String should have at most 256 characters" },
    });
    expect(placed.general).toBe("gone: no such row Dictionary should have at most 20 items");
  });
});
