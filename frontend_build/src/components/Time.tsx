/** A point in time in the user's zone, with the exact UTC instant on hover. */
import { formatLocal, formatUtc } from "../lib/format";

export function Time({ iso, className }: { iso: string | null | undefined; className?: string }) {
  if (!iso) return <span className={className}>—</span>;
  return (
    <time dateTime={iso} title={formatUtc(iso)} className={className}>
      {formatLocal(iso)}
    </time>
  );
}
