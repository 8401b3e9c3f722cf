/** The "load older …" button under a paged list, with the failure of the last attempt. */
import type { PagedList } from "../hooks/usePagedList";
import { errorText } from "./States";

export function LoadMore({ list, label, small }: { list: PagedList<unknown>; label: string; small?: boolean }) {
  return (
    <>
      {list.moreError !== null && (
        <p className="field-error" role="alert">
          {errorText(list.moreError)}
        </p>
      )}
      {list.hasMore && (
        <button type="button" className={small ? "btn btn-small" : "btn"} onClick={() => void list.loadMore()} disabled={list.loadingMore}>
          {list.loadingMore ? "Loading…" : label}
        </button>
      )}
    </>
  );
}
