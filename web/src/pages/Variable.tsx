// A variable: what its current values look like (a histogram for numbers, counts per value otherwise), its figures
// with what each means, and the latest values recorded.
import { useState } from "react";
import { Link, useParams } from "react-router";
import { gql } from "../api";
import { BarChart, type BarDatum } from "../components/BarChart";
import { DataTable } from "../components/DataTable";
import { ErrorPanel, Loading } from "../components/ErrorPanel";
import { fmtNumber, fmtTime, fmtValue, lower } from "../components/format";
import { Missing } from "../components/Missing";
import { RunFilter } from "../components/RunFilter";
import { useQuery } from "../components/useQuery";

interface Aggregate {
  valuesRecorded: number;
  learnersWithValue: number;
  lastRecordedAt: string | null;
  numeric: {
    min: number;
    max: number;
    mean: number;
    median: number;
    stddev: number;
    percentiles: { p25: number; p75: number; p90: number };
  } | null;
  distribution: { value: unknown; count: number }[] | null;
}
interface Variable {
  id: string;
  name: string;
  type: string;
  direction: string;
  description: string | null;
  course: { id: string; name: string; runs: { id: string; name: string }[] } | null;
  chatbot: { id: string; name: string } | null;
  aggregate: Aggregate | null;
  histogram: { lower: number; upper: number; count: number }[];
  values: { id: string; value: unknown; recordedAt: string; learner: { id: string; email: string } | null }[];
}

const QUERY = `query($id: UUID!, $run: UUID) { variable(id: $id) { id name type direction description
  course { id name runs { id name } } chatbot { id name }
  aggregate(courseRunId: $run) { valuesRecorded learnersWithValue lastRecordedAt
    numeric { min max mean median stddev percentiles { p25 p75 p90 } } distribution { value count } }
  histogram(buckets: 10, courseRunId: $run) { lower upper count }
  values(limit: 20) { id value recordedAt learner { id email } } } }`;

export function VariablePage() {
  const { id = "" } = useParams();
  const [run, setRun] = useState("");
  const q = useQuery(() => gql<{ variable: Variable | null }>(QUERY, { id, run: run || null }), [id, run]);
  if (q.error) return <ErrorPanel error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading />;
  const v = q.data.variable;
  if (!v) return <Missing what="Variable" back="/" backLabel="Back to the dashboard" />;
  const a = v.aggregate;
  const owner = v.course
    ? { to: `/courses/${v.course.id}`, name: v.course.name }
    : v.chatbot
      ? { to: `/chatbots/${v.chatbot.id}`, name: v.chatbot.name }
      : { to: "/", name: "Dashboard" };
  const stats: [string, string, string][] = a
    ? [
        ["Values recorded", fmtNumber(a.valuesRecorded), "every value ever set, including ones since replaced"],
        ["Learners with a value", fmtNumber(a.learnersWithValue), "learners whose current value is set"],
        ["Last recorded", fmtTime(a.lastRecordedAt), "when the newest value came in"],
      ]
    : [];
  if (a?.numeric) {
    const n = a.numeric;
    stats.push(
      ["Mean", fmtNumber(n.mean), "the average of the current values"],
      ["Median", fmtNumber(n.median), "half the learners are below, half above"],
      ["Standard deviation", fmtNumber(n.stddev), "how far values typically lie from the mean"],
      ["Min – max", `${fmtNumber(n.min)} – ${fmtNumber(n.max)}`, "the lowest and highest current value"],
      [
        "p25 / p75 / p90",
        `${fmtNumber(n.percentiles.p25)} / ${fmtNumber(n.percentiles.p75)} / ${fmtNumber(n.percentiles.p90)}`,
        "the values below which 25 %, 75 % and 90 % of learners fall",
      ],
    );
  }
  let chart: { title: string; data: BarDatum[]; xLabel: string } | null = null;
  if (v.type === "NUMBER" && v.histogram.length)
    chart = {
      title: `Histogram of current values of ${v.name}`,
      xLabel: "Value range",
      data: v.histogram.map((b) => ({ label: `${fmtNumber(b.lower)}–${fmtNumber(b.upper)}`, count: b.count })),
    };
  else if (v.type !== "NUMBER" && a?.distribution?.length)
    chart = {
      title: `Distribution of current values of ${v.name}`,
      xLabel: "Value",
      data: a.distribution.map((d) => ({ label: fmtValue(d.value), count: d.count })),
    };
  return (
    <>
      <p>
        <Link to={owner.to}>← {owner.name}</Link>
      </p>
      <h1>
        {v.name} <span className="muted">({lower(v.type)}, {lower(v.direction)})</span>
      </h1>
      {v.description ? <p>{v.description}</p> : null}
      <RunFilter runs={v.course?.runs ?? []} value={run} onChange={setRun} />
      <dl className="stats explained">
        {stats.map(([term, value, help]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>
              {value}
              <span className="help">{help}</span>
            </dd>
          </div>
        ))}
      </dl>
      <h2>Current values</h2>
      {chart ? <BarChart {...chart} /> : <p className="muted">No values yet.</p>}
      <h2>Latest values</h2>
      <DataTable
        rows={v.values}
        rowKey={(x) => x.id}
        columns={[
          { label: "Learner", cell: (x) => (x.learner ? <Link to={`/learners/${x.learner.id}`}>{x.learner.email}</Link> : "—") },
          { label: "Value", cell: (x) => fmtValue(x.value), className: "value" },
          { label: "Recorded", cell: (x) => fmtTime(x.recordedAt) },
        ]}
      />
    </>
  );
}
