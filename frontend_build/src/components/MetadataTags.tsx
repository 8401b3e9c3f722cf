/** A model's or a version's metadata as tags (key=value), sorted by key; nothing when there is none. */
import { metadataEntries } from "../lib/metadata";

export function MetadataTags({ metadata, testId }: { metadata: Record<string, string> | undefined | null; testId?: string }) {
  const entries = metadataEntries(metadata);
  if (entries.length === 0) return null;
  return (
    <ul className="tag-list" data-testid={testId}>
      {entries.map(([key, value]) => (
        <li key={key} className="tag" data-metadata-key={key}>
          <span className="tag-key">{key}</span>
          {value !== "" && (
            <>
              =<span className="tag-value">{value}</span>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}
