// The pipeline editor: components as nodes (inputs on the left, outputs on the right); drag an output onto an input
// to connect, select a connection and press Delete to disconnect. Every change is saved as it is made, and a
// refusal is shown on the component where it happened.
import dagre from "@dagrejs/dagre";
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  type Connection,
  type Edge,
  type Node,
  type NodeChange,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { gql, outcome, USER_ERROR } from "../api";
import { ErrorPanel, errorMessage, Loading } from "../components/ErrorPanel";
import { lower } from "../components/format";
import { Missing } from "../components/Missing";
import { useQuery } from "../components/useQuery";

interface Variable {
  id: string;
  name: string;
  type: string;
  direction: "INPUT" | "OUTPUT" | "STATE";
}
interface PNode {
  id: string;
  componentKind: "COURSE" | "CHATBOT";
  componentId: string;
  name: string | null;
  x: number;
  y: number;
  variables: Variable[];
}
interface PConnection {
  id: string;
  sourceVariableId: string;
  targetVariableId: string;
}
interface Pipeline {
  id: string;
  name: string;
  description: string | null;
  active: boolean;
  nodes: PNode[];
  connections: PConnection[];
}
interface Component {
  id: string;
  name: string;
}
interface Loaded {
  pipeline: Pipeline | null;
  courses: { data: Component[] };
  chatbots: { data: Component[] };
}

const NODE = "id componentKind componentId name x y variables { id name type direction }";
const LOAD = `query($id: UUID!) { pipeline(id: $id) { id name description active nodes { ${NODE} }
  connections { id sourceVariableId targetVariableId } }
  courses(limit: 500) { data { id name } } chatbots(limit: 500) { data { id name } } }`;
const ADD = `mutation($input: PipelineNodeInput!) { addPipelineNode(input: $input) { __typename ... on PipelineNode { ${NODE} } ${USER_ERROR} } }`;
const MOVE = `mutation($id: UUID!, $x: Float!, $y: Float!) { movePipelineNode(id: $id, x: $x, y: $y) { __typename ... on PipelineNode { id } ${USER_ERROR} } }`;
const REMOVE = `mutation($id: UUID!, $pipelineId: UUID) { removePipelineNode(id: $id, pipelineId: $pipelineId) { __typename ... on Deleted { id } ${USER_ERROR} } }`;
const CONNECT = `mutation($input: ConnectInput!) { connectVariables(input: $input) {
  __typename ... on ConnectionCreated { id sourceVariableId targetVariableId backfilled } ${USER_ERROR} } }`;
const DISCONNECT = `mutation($id: UUID!, $pipelineId: UUID) { disconnectVariables(id: $id, pipelineId: $pipelineId) { __typename ... on Deleted { id } ${USER_ERROR} } }`;
const UPDATE = `mutation($id: UUID!, $input: PipelineUpdateInput!) { updatePipeline(id: $id, input: $input) {
  __typename ... on Pipeline { id name active } ${USER_ERROR} } }`;

type Payload = { __typename: string; message?: string };
const NODE_WIDTH = 240;

interface ComponentData extends Record<string, unknown> {
  node: PNode;
  refusal: string | null;
  onRemove: (node: PNode) => void;
}

function ComponentNode({ data }: NodeProps<Node<ComponentData>>) {
  const { node, refusal, onRemove } = data;
  const inputs = node.variables.filter((v) => v.direction === "INPUT");
  const outputs = node.variables.filter((v) => v.direction === "OUTPUT");
  return (
    <div className="component-node">
      <div className="component-title">
        <span className="kind">{lower(node.componentKind)}</span>
        <strong>{node.name ?? "(deleted component)"}</strong>
        <button type="button" className="link nodrag" aria-label={`Remove ${node.name ?? "component"}`} onClick={() => onRemove(node)}>
          ×
        </button>
      </div>
      <div className="ports">
        <ul className="port-list">
          {inputs.map((v) => (
            <li key={v.id} className="port in">
              <Handle type="target" position={Position.Left} id={v.id} role="button" aria-label={`input ${v.name}`} />
              {v.name} <span className="muted">{lower(v.type)}</span>
            </li>
          ))}
        </ul>
        <ul className="port-list">
          {outputs.map((v) => (
            <li key={v.id} className="port out">
              {v.name} <span className="muted">{lower(v.type)}</span>
              <Handle type="source" position={Position.Right} id={v.id} role="button" aria-label={`output ${v.name}`} />
            </li>
          ))}
        </ul>
      </div>
      {!inputs.length && !outputs.length ? <p className="muted small">No input or output variables.</p> : null}
      {refusal ? (
        <p className="refusal" role="alert">
          {refusal}
        </p>
      ) : null}
    </div>
  );
}

const nodeTypes = { component: ComponentNode };

function VariableSelect({ id, label, variables, names }: {
  id: string;
  label: string;
  variables: Variable[];
  names: Map<string, string>;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={id === "connect-source" ? "source" : "target"}>
        {variables.map((v) => (
          <option key={v.id} value={v.id}>
            {names.get(v.id)}
          </option>
        ))}
      </select>
    </div>
  );
}

function layout(nodes: PNode[], connections: PConnection[], owner: Map<string, string>): Map<string, { x: number; y: number }> {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 120 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) graph.setNode(n.id, { width: NODE_WIDTH, height: 60 + 28 * Math.max(1, n.variables.length) });
  for (const c of connections) {
    const s = owner.get(c.sourceVariableId);
    const t = owner.get(c.targetVariableId);
    if (s && t) graph.setEdge(s, t);
  }
  dagre.layout(graph);
  const placed = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const p = graph.node(n.id);
    placed.set(n.id, { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - p.height / 2) });
  }
  return placed;
}

function Editor({ initial, components, reload }: { initial: Pipeline; components: { course: Component[]; chatbot: Component[] }; reload: () => void }) {
  const [pipeline, setPipeline] = useState(initial);
  const [positions, setPositions] = useState<Map<string, { x: number; y: number }>>(
    () => new Map(initial.nodes.map((n) => [n.id, { x: n.x, y: n.y }])),
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [refusal, setRefusal] = useState<{ nodeId: string | null; message: string } | null>(null);
  const [status, setStatus] = useState("");
  useEffect(() => {
    setPipeline(initial);
    setPositions(new Map(initial.nodes.map((n) => [n.id, { x: n.x, y: n.y }])));
  }, [initial]);
  const [backfill, setBackfill] = useState(false);

  const owner = useMemo(() => {
    const map = new Map<string, string>();
    for (const n of pipeline.nodes) for (const v of n.variables) map.set(v.id, n.id);
    return map;
  }, [pipeline.nodes]);
  const variableName = useMemo(() => {
    const map = new Map<string, string>();
    for (const n of pipeline.nodes) for (const v of n.variables) map.set(v.id, `${n.name ?? "?"}.${v.name}`);
    return map;
  }, [pipeline.nodes]);

  const fail = (nodeId: string | null, message: string) => {
    setRefusal({ nodeId, message });
    setStatus(message);
  };

  const removeNode = useCallback(
    async (node: PNode) => {
      const result = (await gql<{ removePipelineNode: Payload }>(REMOVE, { id: node.id, pipelineId: pipeline.id })).removePipelineNode;
      if (result.__typename !== "Deleted") return fail(node.id, result.message ?? "Refused");
      setPipeline((p) => ({
        ...p,
        nodes: p.nodes.filter((n) => n.id !== node.id),
        connections: p.connections.filter((c) => owner.get(c.sourceVariableId) !== node.id && owner.get(c.targetVariableId) !== node.id),
      }));
      setStatus(`Removed ${node.name ?? "the component"} and its connections.`);
    },
    [pipeline.id, owner],
  );

  // React Flow keeps what it measured (sizes, handle places) on the node objects it hands back through
  // onNodesChange: they are kept, and only the data of each node is renewed from the pipeline.
  const [nodes, setNodes] = useState<Node<ComponentData>[]>([]);
  useEffect(() => {
    setNodes((old) => {
      const known = new Map(old.map((n) => [n.id, n]));
      return pipeline.nodes.map((n) => ({
        position: positions.get(n.id) ?? { x: n.x, y: n.y },
        ...known.get(n.id),
        id: n.id,
        type: "component",
        data: { node: n, refusal: refusal?.nodeId === n.id ? refusal.message : null, onRemove: removeNode },
        ariaLabel: n.name ?? "deleted component",
        style: { width: NODE_WIDTH },
        deletable: false,
      }));
    });
  }, [pipeline.nodes, refusal, removeNode, positions]);
  useEffect(() => {
    setNodes((old) => old.map((n) => (positions.has(n.id) ? { ...n, position: positions.get(n.id)! } : n)));
  }, [positions]);
  const edges: Edge[] = pipeline.connections.flatMap((c) => {
    const source = owner.get(c.sourceVariableId);
    const target = owner.get(c.targetVariableId);
    if (!source || !target) return [];
    return [{
      id: c.id,
      source,
      target,
      sourceHandle: c.sourceVariableId,
      targetHandle: c.targetVariableId,
      selected: selected.has(c.id),
      ariaLabel: `connection from ${variableName.get(c.sourceVariableId)} to ${variableName.get(c.targetVariableId)}`,
    }];
  });

  const onNodesChange = (changes: NodeChange<Node<ComponentData>>[]) => setNodes((old) => applyNodeChanges(changes, old));
  const save = async (id: string, x: number, y: number) => {
    const result = (await gql<{ movePipelineNode: Payload }>(MOVE, { id, x, y })).movePipelineNode;
    if (result.__typename !== "PipelineNode") fail(id, result.message ?? "Refused");
  };

  const connect = async (sourceVariableId: string, targetVariableId: string) => {
    const input = { pipelineId: pipeline.id, sourceVariableId, targetVariableId, backfill };
    try {
      const made = outcome(
        (await gql<{ connectVariables: Payload & PConnection & { backfilled: number } }>(CONNECT, { input })).connectVariables,
        "ConnectionCreated",
      );
      setRefusal(null);
      setPipeline((p) => ({ ...p, connections: [...p.connections, made] }));
      setStatus(
        `Connected ${variableName.get(sourceVariableId)} to ${variableName.get(targetVariableId)}` +
          (backfill ? `; ${made.backfilled} value(s) copied.` : "."),
      );
    } catch (error) {
      fail(owner.get(targetVariableId) ?? null, `Not connected: ${errorMessage(error)}`);
    }
  };
  const onConnect = (c: Connection) => {
    if (c.sourceHandle && c.targetHandle) void connect(c.sourceHandle, c.targetHandle);
  };
  const disconnect = async (ids: string[]) => {
    for (const id of ids) {
      const result = (await gql<{ disconnectVariables: Payload }>(DISCONNECT, { id, pipelineId: pipeline.id })).disconnectVariables;
      if (result.__typename !== "Deleted") return fail(null, result.message ?? "Refused");
      setPipeline((p) => ({ ...p, connections: p.connections.filter((c) => c.id !== id) }));
    }
    setSelected(new Set());
    setStatus(`Removed ${ids.length} connection(s).`);
  };

  const arrange = async () => {
    const placed = layout(pipeline.nodes, pipeline.connections, owner);
    setPositions(placed);
    await Promise.all([...placed].map(([id, p]) => save(id, p.x, p.y)));
    setStatus("Arranged and saved.");
  };

  const add = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const [kind, id] = String(new FormData(event.currentTarget).get("component") ?? "").split(":");
    if (!id) return;
    const x = 40 + (pipeline.nodes.length % 3) * (NODE_WIDTH + 80);
    const y = 40 + Math.floor(pipeline.nodes.length / 3) * 220;
    try {
      const node = outcome(
        (await gql<{ addPipelineNode: Payload & PNode }>(ADD, { input: { pipelineId: pipeline.id, componentKind: kind, componentId: id, x, y } })).addPipelineNode,
        "PipelineNode",
      );
      setPipeline((p) => ({ ...p, nodes: [...p.nodes, node] }));
      setPositions((m) => new Map(m).set(node.id, { x: node.x, y: node.y }));
      setStatus(`Added ${node.name}.`);
    } catch (error) {
      fail(null, errorMessage(error));
    }
  };

  const update = async (input: { name?: string; active?: boolean }) => {
    const before = pipeline.active;
    if (input.active !== undefined) setPipeline((p) => ({ ...p, active: input.active! })); // the box follows the click
    try {
      const p = outcome((await gql<{ updatePipeline: Payload & Pipeline }>(UPDATE, { id: pipeline.id, input })).updatePipeline, "Pipeline");
      setPipeline((old) => ({ ...old, name: p.name, active: p.active }));
      setStatus(input.name ? `Renamed to ${p.name}.` : p.active ? "The pipeline is active." : "The pipeline is paused.");
    } catch (error) {
      setPipeline((p) => ({ ...p, active: before }));
      fail(null, errorMessage(error));
    }
  };

  const present = new Set(pipeline.nodes.map((n) => `${n.componentKind}:${n.componentId}`));
  const outputs = pipeline.nodes.flatMap((n) => n.variables.filter((v) => v.direction === "OUTPUT"));
  const inputs = pipeline.nodes.flatMap((n) => n.variables.filter((v) => v.direction === "INPUT"));

  return (
    <>
      <p>
        <Link to="/pipelines">← Pipelines</Link>
      </p>
      <h1>{pipeline.name}</h1>
      <div className="toolbar">
        <form
          className="inline"
          aria-label="Rename the pipeline"
          onSubmit={(e) => {
            e.preventDefault();
            void update({ name: String(new FormData(e.currentTarget).get("name")) });
          }}
        >
          <div className="field">
            <label htmlFor="pipeline-rename">Pipeline name</label>
            <input id="pipeline-rename" name="name" defaultValue={pipeline.name} required maxLength={200} />
          </div>
          <button type="submit" className="secondary">Rename</button>
        </form>
        <label className="check">
          <input type="checkbox" checked={pipeline.active} onChange={(e) => void update({ active: e.target.checked })} /> Active
        </label>
        <form className="inline" aria-label="Add a component" onSubmit={add}>
          <div className="field">
            <label htmlFor="add-component">Course or chatbot</label>
            <select id="add-component" name="component">
              {(["course", "chatbot"] as const).map((kind) => (
                <optgroup key={kind} label={kind === "course" ? "Courses" : "Chatbots"}>
                  {components[kind]
                    .filter((c) => !present.has(`${kind.toUpperCase()}:${c.id}`))
                    .map((c) => (
                      <option key={c.id} value={`${kind.toUpperCase()}:${c.id}`}>
                        {c.name}
                      </option>
                    ))}
                </optgroup>
              ))}
            </select>
          </div>
          <button type="submit">Add component</button>
        </form>
        <button type="button" className="secondary" onClick={() => void arrange()}>
          Auto-arrange
        </button>
        <button type="button" className="secondary" onClick={reload}>
          Reload
        </button>
      </div>
      <p className="muted">
        Drag from an output (right) to an input (left) to connect. Select a connection and press Delete to remove it.
      </p>
      <label className="check">
        <input type="checkbox" checked={backfill} onChange={(e) => setBackfill(e.target.checked)} /> Copy existing values
        when connecting (backfill)
      </label>
      <p role="status" className="editor-status">
        {status}
      </p>
      {refusal && !refusal.nodeId ? (
        <p className="refusal" role="alert">
          {refusal.message}
        </p>
      ) : null}
      <div className="canvas" aria-label={`Pipeline ${pipeline.name}`} role="region">
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onNodeDragStop={(_e, node) => void save(node.id, node.position.x, node.position.y)}
          onConnect={onConnect}
          onEdgesChange={(changes) => {
            const next = new Set(selected);
            for (const c of changes) if (c.type === "select") c.selected ? next.add(c.id) : next.delete(c.id);
            setSelected(next);
          }}
          onEdgesDelete={(deleted) => void disconnect(deleted.map((e) => e.id))}
          deleteKeyCode={["Delete", "Backspace"]}
          fitView
          minZoom={0.2}
          proOptions={{ hideAttribution: true }}
        >
          <Background />
          <Controls />
        </ReactFlow>
      </div>
      <h2>Connections</h2>
      {pipeline.connections.length ? (
        <ul className="connections">
          {pipeline.connections.map((c) => (
            <li key={c.id}>
              {variableName.get(c.sourceVariableId) ?? "?"} → {variableName.get(c.targetVariableId) ?? "?"}{" "}
              <button type="button" className="link" onClick={() => void disconnect([c.id])}>
                Disconnect
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No connections yet.</p>
      )}
      <form
        className="inline"
        aria-label="Connect without dragging"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          void connect(String(form.get("source")), String(form.get("target")));
        }}
      >
        <VariableSelect id="connect-source" label="From output" variables={outputs} names={variableName} />
        <VariableSelect id="connect-target" label="To input" variables={inputs} names={variableName} />
        <button type="submit" disabled={!outputs.length || !inputs.length}>
          Connect
        </button>
      </form>
    </>
  );
}

export function PipelineEditor() {
  const { id = "" } = useParams();
  const q = useQuery(() => gql<Loaded>(LOAD, { id }), [id]);
  if (q.error) return <ErrorPanel error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading />;
  if (!q.data.pipeline) return <Missing what="Pipeline" back="/pipelines" backLabel="Back to the pipelines" />;
  return (
    <ReactFlowProvider>
      <Editor
        key={q.data.pipeline.id}
        initial={q.data.pipeline}
        components={{ course: q.data.courses.data, chatbot: q.data.chatbots.data }}
        reload={q.reload}
      />
    </ReactFlowProvider>
  );
}
