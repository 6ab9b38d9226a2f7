// Learners, a page at a time: search by name or email, choose the page size, walk forward and back with cursors.
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { gql } from "../api";
import { DataTable } from "../components/DataTable";
import { ErrorPanel, Loading } from "../components/ErrorPanel";
import { fmtTime } from "../components/format";
import { useQuery } from "../components/useQuery";
import type { LearnerSummary } from "../models";

interface Page {
  learners: { data: LearnerSummary[]; pagination: { hasMore: boolean; nextCursor: string | null } };
}

const QUERY = `query($search: String, $limit: Int!, $cursor: String) {
  learners(search: $search, limit: $limit, cursor: $cursor) {
    data { id email name externalId createdAt } pagination { hasMore nextCursor } } }`;
const SIZES = [10, 25, 50, 100];

export function Learners() {
  const [params, setParams] = useSearchParams();
  const search = params.get("search") ?? "";
  const size = SIZES.includes(Number(params.get("size"))) ? Number(params.get("size")) : 25;
  // The cursors of the pages before this one; the first page has none.
  const [trail, setTrail] = useState<(string | null)[]>([null]);
  const cursor = trail[trail.length - 1];
  const q = useQuery(() => gql<Page>(QUERY, { search: search || null, limit: size, cursor }), [search, size, cursor]);

  const change = (next: Record<string, string>) => {
    setTrail([null]);
    const merged = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) if (v) merged.set(k, v); else merged.delete(k);
    setParams(merged);
  };
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    change({ search: String(new FormData(event.currentTarget).get("search") ?? "").trim() });
  };
  const page = q.data?.learners;
  const first = (trail.length - 1) * size + 1;
  return (
    <>
      <h1>Learners</h1>
      <form className="inline" role="search" onSubmit={submit}>
        <div className="field">
          <label htmlFor="learner-search">Search by name or email</label>
          <input id="learner-search" name="search" type="search" defaultValue={search} key={search} />
        </div>
        <button type="submit">Search</button>
        <div className="field">
          <label htmlFor="page-size">Per page</label>
          <select id="page-size" value={size} onChange={(e) => change({ size: e.target.value })}>
            {SIZES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </form>
      {q.error ? (
        <ErrorPanel error={q.error} retry={q.reload} title="The learners could not be loaded" />
      ) : !page || q.loading ? (
        <Loading />
      ) : (
        <>
          <p className="muted" role="status">
            {page.data.length
              ? `Learners ${first}–${first + page.data.length - 1}${page.pagination.hasMore ? ", more on the next page" : ""}`
              : search
                ? "No learner matches this search."
                : "No learners yet."}
          </p>
          <DataTable
            rows={page.data}
            rowKey={(l) => l.id}
            columns={[
              { label: "Name", cell: (l) => <Link to={`/learners/${l.id}`}>{l.name || l.email}</Link> },
              { label: "Email", cell: (l) => l.email },
              { label: "External id", cell: (l) => l.externalId || "—" },
              { label: "Since", cell: (l) => fmtTime(l.createdAt) },
            ]}
          />
          <nav className="pager" aria-label="Learner pages">
            <button type="button" className="secondary" disabled={trail.length === 1} onClick={() => setTrail(trail.slice(0, -1))}>
              Previous page
            </button>
            <span className="muted">Page {trail.length}</span>
            <button
              type="button"
              className="secondary"
              disabled={!page.pagination.hasMore || !page.pagination.nextCursor}
              onClick={() => setTrail([...trail, page.pagination.nextCursor])}
            >
              Next page
            </button>
          </nav>
        </>
      )}
    </>
  );
}
