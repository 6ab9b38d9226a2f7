// The audit log: who changed keys, members, pipelines or data, and when, newest first, a page at a time.
import { useState } from "react";
import { gql } from "../api";
import { DataTable } from "../components/DataTable";
import { ErrorPanel, Loading } from "../components/ErrorPanel";
import { fmtTime } from "../components/format";
import { useQuery } from "../components/useQuery";

interface Entry {
  id: string;
  actor: string;
  actorEmail: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown> | null;
  createdAt: string;
}
interface Page {
  auditLog: { data: Entry[]; pagination: { hasMore: boolean; nextCursor: string | null } };
}

const QUERY = `query($cursor: String) { auditLog(limit: 50, cursor: $cursor) {
  data { id actor actorEmail action targetType targetId details createdAt } pagination { hasMore nextCursor } } }`;

const describe = (details: Record<string, unknown> | null): string =>
  details ? Object.entries(details).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ") : "";

export function AuditLog() {
  const [trail, setTrail] = useState<(string | null)[]>([null]);
  const cursor = trail[trail.length - 1];
  const q = useQuery(() => gql<Page>(QUERY, { cursor }), [cursor]);
  if (q.error) return <ErrorPanel error={q.error} retry={q.reload} title="The audit log could not be loaded" />;
  if (!q.data || q.loading) return <Loading />;
  const page = q.data.auditLog;
  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">Changes of API keys, members, pipelines and data, newest first. Secrets and erased learners never appear here.</p>
      {page.data.length ? (
        <DataTable
          label="Audit log"
          rows={page.data}
          rowKey={(e) => e.id}
          columns={[
            { label: "When", cell: (e) => fmtTime(e.createdAt) },
            { label: "Who", cell: (e) => e.actorEmail ?? (e.actor.startsWith("key:") ? `API key ${e.actor.slice(4, 12)}…` : e.actor), className: "value" },
            { label: "Action", cell: (e) => e.action },
            { label: "Details", cell: (e) => describe(e.details), className: "value" },
          ]}
        />
      ) : (
        <p className="muted">Nothing recorded yet.</p>
      )}
      <nav className="pager" aria-label="Audit log pages">
        <button type="button" className="secondary" disabled={trail.length === 1} onClick={() => setTrail(trail.slice(0, -1))}>
          Newer
        </button>
        <span className="muted">Page {trail.length}</span>
        <button
          type="button"
          className="secondary"
          disabled={!page.pagination.nextCursor}
          onClick={() => setTrail([...trail, page.pagination.nextCursor])}
        >
          Older
        </button>
      </nav>
    </>
  );
}
