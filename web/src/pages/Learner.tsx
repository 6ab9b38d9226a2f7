// One learner: their courses, their current value of every variable grouped by the course or chatbot it belongs
// to, and each variable's history on demand.
import { useState } from "react";
import { Link, useParams } from "react-router";
import { gql } from "../api";
import { DataTable } from "../components/DataTable";
import { ErrorPanel, Loading } from "../components/ErrorPanel";
import { fmtTime, fmtValue, lower } from "../components/format";
import { Missing } from "../components/Missing";
import { useQuery } from "../components/useQuery";
import type { LearnerSummary } from "../models";

interface Current {
  valueId: string;
  variableId: string;
  name: string;
  type: string;
  value: unknown;
  recordedAt: string;
  variable: { course: { id: string; name: string } | null; chatbot: { id: string; name: string } | null } | null;
}
interface Learner extends LearnerSummary {
  courses: { id: string; name: string }[];
  variables: Current[] | null;
}

const QUERY = `query($id: UUID!) { learner(id: $id) { id email name externalId createdAt courses { id name }
  variables { valueId variableId name type value recordedAt variable { course { id name } chatbot { id name } } } } }`;
const HISTORY = `query($variable: UUID!, $learner: UUID!) { variableValues(variableId: $variable, learnerId: $learner, limit: 100) {
  data { id value recordedAt courseRunId connectionId } pagination { hasMore } } }`;

interface Group {
  key: string;
  title: string;
  to: string | null;
  rows: Current[];
}

function groups(values: Current[]): Group[] {
  const byKey = new Map<string, Group>();
  for (const v of values) {
    const owner = v.variable?.course
      ? { key: `course:${v.variable.course.id}`, title: `Course: ${v.variable.course.name}`, to: `/courses/${v.variable.course.id}` }
      : v.variable?.chatbot
        ? { key: `chatbot:${v.variable.chatbot.id}`, title: `Chatbot: ${v.variable.chatbot.name}`, to: `/chatbots/${v.variable.chatbot.id}` }
        : { key: "org", title: "Organization-wide", to: null };
    const group = byKey.get(owner.key) ?? { ...owner, rows: [] };
    group.rows.push(v);
    byKey.set(owner.key, group);
  }
  return [...byKey.values()].sort((a, b) => a.title.localeCompare(b.title));
}

function History({ variableId, learnerId }: { variableId: string; learnerId: string }) {
  type Values = { variableValues: { data: { id: string; value: unknown; recordedAt: string; connectionId: string | null }[]; pagination: { hasMore: boolean } } };
  const q = useQuery(() => gql<Values>(HISTORY, { variable: variableId, learner: learnerId }), [variableId, learnerId]);
  if (q.error) return <ErrorPanel error={q.error} retry={q.reload} title="The history could not be loaded" />;
  if (!q.data) return <Loading />;
  const page = q.data.variableValues;
  return (
    <ol className="history">
      {page.data.map((h) => (
        <li key={h.id}>
          <span className="value">{fmtValue(h.value)}</span> <span className="muted">{fmtTime(h.recordedAt)}</span>
          {h.connectionId ? <span className="badge">carried by a pipeline</span> : null}
        </li>
      ))}
      {page.pagination.hasMore ? <li className="muted">Older values: use the learner export (GET /api/learners/{learnerId}/export).</li> : null}
    </ol>
  );
}

// The history is asked for only when opened: a learner may have hundreds of variables.
function HistoryToggle({ name, variableId, learnerId }: { name: string; variableId: string; learnerId: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>History of {name}</summary>
      {open ? <History variableId={variableId} learnerId={learnerId} /> : null}
    </details>
  );
}

export function LearnerPage() {
  const { id = "" } = useParams();
  const q = useQuery(() => gql<{ learner: Learner | null }>(QUERY, { id }), [id]);
  if (q.error) return <ErrorPanel error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading />;
  const l = q.data.learner;
  if (!l) return <Missing what="Learner" back="/learners" backLabel="Back to the learners" />;
  return (
    <>
      <p>
        <Link to="/learners">← Learners</Link>
      </p>
      <h1>{l.name || l.email}</h1>
      <dl className="stats">
        <dt>Email</dt>
        <dd>{l.email}</dd>
        <dt>External id</dt>
        <dd>{l.externalId || "—"}</dd>
        <dt>Since</dt>
        <dd>{fmtTime(l.createdAt)}</dd>
      </dl>
      <h2>Courses</h2>
      {l.courses.length ? (
        <ul>
          {l.courses.map((c) => (
            <li key={c.id}>
              <Link to={`/courses/${c.id}`}>{c.name}</Link>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">Not enrolled in any course.</p>
      )}
      <h2>Current values</h2>
      {!l.variables?.length ? <p className="muted">No values yet.</p> : null}
      {groups(l.variables ?? []).map((g) => (
        <section key={g.key} aria-label={g.title}>
          <h3>{g.to ? <Link to={g.to}>{g.title}</Link> : g.title}</h3>
          <DataTable
            rows={g.rows}
            rowKey={(v) => v.valueId}
            columns={[
              {
                label: "Variable",
                cell: (v) => (
                  <>
                    <Link to={`/variables/${v.variableId}`}>{v.name}</Link> <span className="muted">({lower(v.type)})</span>
                  </>
                ),
              },
              { label: "Value", cell: (v) => fmtValue(v.value), className: "value" },
              { label: "Recorded", cell: (v) => fmtTime(v.recordedAt) },
              { label: "History", cell: (v) => <HistoryToggle name={v.name} variableId={v.variableId} learnerId={l.id} /> },
            ]}
          />
        </section>
      ))}
    </>
  );
}
