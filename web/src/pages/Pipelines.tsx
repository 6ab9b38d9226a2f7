// The organization's pipelines, and a form to start a new one.
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { gql, outcome, USER_ERROR } from "../api";
import { DataTable } from "../components/DataTable";
import { ErrorPanel, errorMessage, Loading } from "../components/ErrorPanel";
import { fmtTime } from "../components/format";
import { useQuery } from "../components/useQuery";

interface Row {
  id: string;
  name: string;
  description: string | null;
  active: boolean;
  updatedAt: string;
  nodes: { id: string }[];
  connections: { id: string }[];
}

const LIST = `{ pipelines(limit: 200) { data { id name description active updatedAt nodes { id } connections { id } } } }`;
const CREATE = `mutation($input: PipelineInput!) { createPipeline(input: $input) { __typename ... on Pipeline { id } ${USER_ERROR} } }`;

export function Pipelines() {
  const navigate = useNavigate();
  const q = useQuery(() => gql<{ pipelines: { data: Row[] } }>(LIST), []);
  const [status, setStatus] = useState("");
  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const input = { name: form.get("name"), description: form.get("description") || null };
    try {
      const created = outcome((await gql<{ createPipeline: { __typename: string; id: string } }>(CREATE, { input })).createPipeline, "Pipeline");
      navigate(`/pipelines/${created.id}`);
    } catch (error) {
      setStatus(errorMessage(error));
    }
  };
  return (
    <>
      <h1>Pipelines</h1>
      <p>
        A pipeline carries a value from a course's or chatbot's output variable into another component's input, for the
        same learner, as soon as it is recorded.
      </p>
      <h2>New pipeline</h2>
      <form className="inline" aria-label="Create a pipeline" onSubmit={create}>
        <div className="field">
          <label htmlFor="pipeline-name">Name</label>
          <input id="pipeline-name" name="name" required maxLength={200} />
        </div>
        <div className="field">
          <label htmlFor="pipeline-description">Description (optional)</label>
          <input id="pipeline-description" name="description" maxLength={2000} />
        </div>
        <button type="submit">Create pipeline</button>
      </form>
      {status ? (
        <p className="error" role="alert">
          {status}
        </p>
      ) : null}
      <h2>All pipelines</h2>
      {q.error ? (
        <ErrorPanel error={q.error} retry={q.reload} title="The pipelines could not be loaded" />
      ) : !q.data ? (
        <Loading />
      ) : q.data.pipelines.data.length ? (
        <DataTable
          rows={q.data.pipelines.data}
          rowKey={(p) => p.id}
          columns={[
            {
              label: "Name",
              cell: (p) => (
                <>
                  <Link to={`/pipelines/${p.id}`}>{p.name}</Link>
                  {p.description ? <div className="muted">{p.description}</div> : null}
                </>
              ),
            },
            { label: "Status", cell: (p) => (p.active ? "active" : "paused") },
            { label: "Components", cell: (p) => p.nodes.length },
            { label: "Connections", cell: (p) => p.connections.length },
            { label: "Changed", cell: (p) => fmtTime(p.updatedAt) },
          ]}
        />
      ) : (
        <p className="muted">No pipelines yet.</p>
      )}
    </>
  );
}
