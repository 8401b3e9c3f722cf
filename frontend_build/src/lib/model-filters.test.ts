import { describe, expect, it } from "vitest";
import { NO_FILTERS, filterProblems, isFiltered, listQuery, queryKey, tokensFor, type ModelFilters } from "./model-filters";

const scope = { project: null, limit: 25, username: "dana" };
const filters = (patch: Partial<ModelFilters>): ModelFilters => ({ ...NO_FILTERS, ...patch });

describe("the models list's query", () => {
  it("sends only the filters that are set, trimmed", () => {
    expect(listQuery(NO_FILTERS, scope)).toEqual({ limit: 25 });
    expect(
      listQuery(
        filters({
          search: " iris ",
          status: "RUNNING",
          metadataKey: " team ",
          metadataValue: " fraud ",
          createdBy: " ann ",
          deployedByMe: true,
        }),
        { ...scope, project: "pricing" },
      ),
    ).toEqual({
      limit: 25,
      project: "pricing",
      search: "iris",
      status: "RUNNING",
      metadataKey: "team",
      metadataValue: "fraud",
      createdBy: "ann",
      deployedBy: "dana",
    });
  });

  it("asks for a metadata key alone (any value), and never for a value without its key", () => {
    expect(listQuery(filters({ metadataKey: "team" }), scope)).toEqual({ limit: 25, metadataKey: "team" });
    expect(listQuery(filters({ metadataValue: "fraud" }), scope)).toEqual({ limit: 25 });
    expect(filterProblems(filters({ metadataValue: "fraud" }))).toEqual({ metadataValue: "Give the metadata key this value is of." });
  });

  it("leaves out a metadata key the API would refuse, and says why", () => {
    expect(filterProblems(filters({ metadataKey: "bad key", metadataValue: "x" }))).toEqual({
      metadataKey: "Start with a letter or digit; then use letters, digits and _ . : / - only.",
    });
    expect(listQuery(filters({ metadataKey: "bad key", metadataValue: "x", status: "FAILED" }), scope)).toEqual({
      limit: 25,
      status: "FAILED",
    });
    expect(filterProblems(filters({ metadataKey: "team" }))).toEqual({});
  });

  it("'deployed by me' is the signed-in user's name", () => {
    expect(listQuery(filters({ deployedByMe: true }), scope).deployedBy).toBe("dana");
    expect(listQuery(filters({ deployedByMe: true }), { ...scope, username: "" }).deployedBy).toBeUndefined();
  });

  it("says when any filter is set", () => {
    expect(isFiltered(NO_FILTERS)).toBe(false);
    expect(isFiltered(filters({ search: "  " }))).toBe(false);
    for (const patch of [
      { search: "x" },
      { status: "IDLE" as const },
      { metadataKey: "k" },
      { createdBy: "ann" },
      { deployedByMe: true },
    ]) {
      expect(isFiltered(filters(patch))).toBe(true);
    }
  });
});

describe("page tokens", () => {
  const first = queryKey(listQuery(filters({ metadataKey: "team" }), scope));

  it("are kept under the whole query: the same query in another order is the same key", () => {
    expect(queryKey({ limit: 25, metadataKey: "team" })).toBe(queryKey({ metadataKey: "team", limit: 25 }));
    expect(tokensFor({ key: first, tokens: [null, "t2", "t3"] }, first)).toEqual([null, "t2", "t3"]);
  });

  it("start from the first page when any filter, the project or the page size changes", () => {
    const paging = { key: first, tokens: [null, "t2"] };
    const others = [
      listQuery(filters({ metadataKey: "team", metadataValue: "fraud" }), scope),
      listQuery(filters({ metadataKey: "team", createdBy: "ann" }), scope),
      listQuery(filters({ metadataKey: "team", deployedByMe: true }), scope),
      listQuery(filters({ metadataKey: "team", search: "iris" }), scope),
      listQuery(filters({ metadataKey: "team", status: "RUNNING" }), scope),
      listQuery(filters({ metadataKey: "team" }), { ...scope, project: "pricing" }),
      listQuery(filters({ metadataKey: "team" }), { ...scope, limit: 50 }),
    ];
    for (const other of others) {
      expect(queryKey(other)).not.toBe(first);
      expect(tokensFor(paging, queryKey(other))).toEqual([null]);
    }
  });

  it("are not reset by a filter that is not sent (a key still being typed wrong)", () => {
    const typing = queryKey(listQuery(filters({ metadataKey: "team", createdBy: " " }), scope));
    expect(typing).toBe(first);
  });
});
