/**
 * The models list's filters, the pure part: what the user typed (search, status, a metadata key and value, a
 * creator, "deployed by me") becomes one GET /models query, and the page tokens belong to that whole query: a
 * change of any filter, the project or the page size starts again from the first page, never sending a token of
 * another query's (the server would read on from the wrong place, or refuse it).
 */
import type { ListModelsQuery, ModelStatus } from "../api/types";
import { validateMetadataKey } from "./metadata";

export interface ModelFilters {
  search: string;
  status: ModelStatus | "";
  metadataKey: string;
  metadataValue: string;
  createdBy: string;
  /** The models whose deployment the signed-in user changed last (`deployedBy=<username>`). */
  deployedByMe: boolean;
}

export const NO_FILTERS: ModelFilters = {
  search: "",
  status: "",
  metadataKey: "",
  metadataValue: "",
  createdBy: "",
  deployedByMe: false,
};

export function isFiltered(filters: ModelFilters): boolean {
  return !!filters.search.trim() || !!filters.status || !!filters.metadataKey.trim() || !!filters.createdBy.trim() || filters.deployedByMe;
}

/** What is wrong with a filter as typed (and so is not sent): a metadata key the API would refuse, a value without a key. */
export function filterProblems(filters: ModelFilters): { metadataKey?: string; metadataValue?: string } {
  const key = filters.metadataKey.trim();
  if (key) {
    const problem = validateMetadataKey(key);
    return problem ? { metadataKey: problem } : {};
  }
  return filters.metadataValue.trim() ? { metadataValue: "Give the metadata key this value is of." } : {};
}

/** The first-page query of these filters (no token); a filter that has a problem is left out. */
export function listQuery(
  filters: ModelFilters,
  scope: { project: string | null; limit: number; username: string },
): Omit<ListModelsQuery, "nextToken"> {
  const problems = filterProblems(filters);
  const key = problems.metadataKey ? "" : filters.metadataKey.trim();
  const query: Omit<ListModelsQuery, "nextToken"> = { limit: scope.limit };
  if (scope.project) query.project = scope.project;
  if (filters.search.trim()) query.search = filters.search.trim();
  if (filters.status) query.status = filters.status;
  if (key) {
    query.metadataKey = key;
    // An empty value means any value: only the key is asked for.
    if (filters.metadataValue.trim()) query.metadataValue = filters.metadataValue.trim();
  }
  if (filters.createdBy.trim()) query.createdBy = filters.createdBy.trim();
  if (filters.deployedByMe && scope.username) query.deployedBy = scope.username;
  return query;
}

/** One string per query (its keys in a fixed order), that the page tokens are kept under. */
export function queryKey(query: Omit<ListModelsQuery, "nextToken">): string {
  return JSON.stringify(Object.entries(query).sort(([a], [b]) => a.localeCompare(b)));
}

/** The page tokens read so far (the first page's is null), and the query they belong to. */
export interface Paging {
  key: string;
  tokens: (string | null)[];
}

/** The tokens for `key`: those kept, when they are of this query; otherwise the first page's alone. */
export function tokensFor(paging: Paging, key: string): (string | null)[] {
  return paging.key === key ? paging.tokens : [null];
}
