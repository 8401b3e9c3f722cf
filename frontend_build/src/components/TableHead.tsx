/** A table's column headings; `actions` names a last, visually hidden one over the rows' buttons. */
export function TableHead({ columns, actions }: { columns: readonly string[]; actions?: string }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col">
            {column}
          </th>
        ))}
        {actions && (
          <th scope="col">
            <span className="visually-hidden">{actions}</span>
          </th>
        )}
      </tr>
    </thead>
  );
}
