// Chooses the course run a page's figures are about; "" is every run.
export function RunFilter({ runs, value, onChange }: {
  runs: { id: string; name: string }[];
  value: string;
  onChange: (run: string) => void;
}) {
  if (!runs.length) return null;
  return (
    <div className="field inline-field">
      <label htmlFor="run-filter">Course run</label>
      <select id="run-filter" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">All runs</option>
        {runs.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name}
          </option>
        ))}
      </select>
    </div>
  );
}
