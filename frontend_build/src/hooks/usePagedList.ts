/**
 * A list read page by page through `nextToken`: the first page loads (and reloads) like `useAsync`,
 * "load more" appends the next pages, and a change of the inputs starts again from the first page.
 * Reloading the first page keeps the pages appended after it (a followed log keeps its history).
 */
import { useEffect, useRef, useState, type DependencyList } from "react";
import type { Page } from "../api/types";
import { useAsync } from "./useAsync";

export interface PagedList<T> {
  /** Every item loaded so far, in the API's order; undefined until the first page arrives. */
  items: T[] | undefined;
  /** The first page's failure (older pages fail into `moreError`). */
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Whether there is a next page to load. */
  hasMore: boolean;
  loadMore: () => Promise<void>;
  loadingMore: boolean;
  moreError: unknown;
}

export function usePagedList<T>(
  load: (nextToken: string | null, signal?: AbortSignal) => Promise<Page<T>>,
  deps: DependencyList,
): PagedList<T> {
  const first = useAsync((signal) => load(null, signal), deps);
  const [more, setMore] = useState<Page<T> | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    setMore(null);
    setMoreError(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  const nextToken = more ? more.nextToken : (first.data?.nextToken ?? null);
  const loadMore = async () => {
    if (!nextToken || loadingMore) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await loadRef.current(nextToken);
      setMore((old) => ({ items: [...(old?.items ?? []), ...page.items], nextToken: page.nextToken }));
    } catch (err) {
      setMoreError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  return {
    items: first.data ? [...first.data.items, ...(more?.items ?? [])] : undefined,
    error: first.error,
    loading: first.loading,
    reload: first.reload,
    hasMore: !!nextToken && !!first.data,
    loadMore,
    loadingMore,
    moreError,
  };
}
