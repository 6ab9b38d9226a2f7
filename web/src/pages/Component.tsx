// A course's or a chatbot's page: its variables, how many learners have a value for each (per course run for a
// course), and its runs.
import { useState } from "react";
import { Link, useParams } from "react-router";
import { gql } from "../api";
import { BarChart } from "../components/BarChart";
import { DataTable } from "../components/DataTable";
import { ErrorPanel, Loading } from "../components/ErrorPanel";
import { fmtNumber, fmtTime, lower } from "../components/format";
import { Missing } from "../components/Missing";
import { RunFilter } from "../components/RunFilter";
import { useQuery } from "../components/useQuery";

interface Row {
  id: string;
  name: string;
  type: string;
  direction: string;
  active: boolean;
  description: string | null;
  aggregate: { valuesRecorded: number; learnersWithValue: number } | null;
}
interface Component {
  id: string;
  name: string;
  description: string | null;
  externalId: string | null;
  runs?: { id: string; name: string; startsAt: string | null; endsAt: string | null }[];
  stats?: { enrolledLearners: number; learnersWithValues: number; valuesRecorded: number };
  variables: Row[];
}

const VARIABLES = `variables { id name type direction active description
  aggregate(courseRunId: $run) { valuesRecorded learnersWithValue } }`;
const COURSE = `query($id: UUID!, $run: UUID) { component: course(id: $id) { id name description externalId
  runs { id name startsAt endsAt } stats { enrolledLearners learnersWithValues valuesRecorded } ${VARIABLES} } }`;
const CHATBOT = `query($id: UUID!, $run: UUID) { component: chatbot(id: $id) { id name description externalId ${VARIABLES} } }`;

export function ComponentPage({ kind }: { kind: "course" | "chatbot" }) {
  const { id = "" } = useParams();
  const [run, setRun] = useState("");
  const q = useQuery(
    () => gql<{ component: Component | null }>(kind === "course" ? COURSE : CHATBOT, { id, run: run || null }),
    [kind, id, run],
  );
  if (q.error) return <ErrorPanel error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading />;
  const c = q.data.component;
  if (!c) return <Missing what={kind === "course" ? "Course" : "Chatbot"} back="/" backLabel="Back to the dashboard" />;
  const runName = c.runs?.find((r) => r.id === run)?.name;
  return (
    <>
      <p>
        <Link to="/">← Dashboard</Link>
      </p>
      <h1>{c.name}</h1>
      {c.description ? <p>{c.description}</p> : null}
      {c.stats ? (
        <dl className="stats">
          <dt>Learners enrolled</dt>
          <dd>{fmtNumber(c.stats.enrolledLearners)}</dd>
          <dt>Learners with a value</dt>
          <dd>{fmtNumber(c.stats.learnersWithValues)}</dd>
          <dt>Values recorded (history, all variables)</dt>
          <dd>{fmtNumber(c.stats.valuesRecorded)}</dd>
        </dl>
      ) : null}
      <RunFilter runs={c.runs ?? []} value={run} onChange={setRun} />
      {c.variables.length ? (
        <BarChart
          title={`Learners with a value, per variable${runName ? ` (${runName})` : ""}`}
          xLabel="Variable"
          data={c.variables.map((v) => ({ label: v.name, count: v.aggregate?.learnersWithValue ?? 0 }))}
        />
      ) : null}
      <h2>Variables</h2>
      {c.variables.length ? (
        <DataTable
          rows={c.variables}
          rowKey={(v) => v.id}
          columns={[
            { label: "Name", cell: (v) => <Link to={`/variables/${v.id}`}>{v.name}</Link> },
            { label: "Type", cell: (v) => lower(v.type) },
            { label: "Direction", cell: (v) => lower(v.direction) },
            { label: "Status", cell: (v) => (v.active ? "active" : "inactive") },
            { label: "Learners with a value", cell: (v) => fmtNumber(v.aggregate?.learnersWithValue) },
            { label: "Description", cell: (v) => v.description || "" },
          ]}
        />
      ) : (
        <p className="muted">No variables.</p>
      )}
      {c.runs ? (
        <>
          <h2>Runs</h2>
          {c.runs.length ? (
            <ul>
              {c.runs.map((r) => (
                <li key={r.id}>
                  {r.name}: {fmtTime(r.startsAt)} – {fmtTime(r.endsAt)}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">No runs.</p>
          )}
        </>
      ) : null}
    </>
  );
}
