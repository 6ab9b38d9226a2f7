// API keys: create one (its secret shown once, focused and announced), find and sort them, revoke one.
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { gql, outcome, USER_ERROR } from "../api";
import { BarChart } from "../components/BarChart";
import { ErrorPanel, errorMessage, Loading } from "../components/ErrorPanel";
import { fmtTime } from "../components/format";
import { useQuery } from "../components/useQuery";

interface Key {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  status: string;
  scope: string | null;
}
type Column = "name" | "createdAt" | "expiresAt" | "lastUsedAt" | "status";
const COLUMNS: [Column, string][] = [
  ["name", "Name"],
  ["createdAt", "Created"],
  ["expiresAt", "Expires"],
  ["lastUsedAt", "Last used"],
  ["status", "Status"],
];

const LIST = "{ apiKeys { id name prefix createdAt expiresAt lastUsedAt status scope } }";
const ROLL = `mutation($id: UUID!, $grace: Int!) { rollApiKey(id: $id, graceSeconds: $grace) {
  __typename ... on ApiKeyCreated { id name key } ${USER_ERROR} } }`;
const USAGE = "query($id: UUID!) { apiKeyUsage(id: $id, days: 30) { day requests rateLimited } }";
const SCOPES: [string, string][] = [
  ["", "Full access"],
  ["WRITE", "Write: reads and value writes"],
  ["READ", "Read only"],
];
const GRACE: [number, string][] = [
  [0, "right away"],
  [3600, "in 1 hour"],
  [86400, "in 24 hours"],
  [604800, "in 7 days"],
];
const CREATE = `mutation($input: ApiKeyInput!) { createApiKey(input: $input) {
  __typename ... on ApiKeyCreated { id name key } ${USER_ERROR} } }`;
const REVOKE = `mutation($id: UUID!) { revokeApiKey(id: $id) { __typename ... on ApiKey { id } ${USER_ERROR} } }`;

export function ApiKeys() {
  const q = useQuery(() => gql<{ apiKeys: Key[] }>(LIST), []);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [status, setStatus] = useState("");
  const [announce, setAnnounce] = useState("");
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ by: Column; desc: boolean }>({ by: "createdAt", desc: true });
  const [revoking, setRevoking] = useState<Key | null>(null);
  const secret = useRef<HTMLElement>(null);
  const table = useRef<HTMLTableElement>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const [copied, setCopied] = useState(false);
  const [rolling, setRolling] = useState<Key | null>(null);
  const rollDialog = useRef<HTMLDialogElement>(null);
  const [usageOf, setUsageOf] = useState<Key | null>(null);
  useEffect(() => {
    if (rolling) rollDialog.current?.showModal();
  }, [rolling]);

  useEffect(() => {
    if (created) secret.current?.focus();
  }, [created]);
  useEffect(() => {
    if (revoking) dialog.current?.showModal();
  }, [revoking]);

  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const keys = (q.data?.apiKeys ?? []).filter(
      (k) => !needle || k.name.toLowerCase().includes(needle) || k.prefix.toLowerCase().includes(needle),
    );
    const value = (k: Key) => k[sort.by] ?? "";
    keys.sort((a, b) => value(a).localeCompare(value(b)) * (sort.desc ? -1 : 1));
    return keys;
  }, [q.data, filter, sort]);

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const values = new FormData(form);
    const expires = String(values.get("expires") ?? "");
    const input = {
      name: values.get("name"),
      expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : null,
      scope: values.get("scope") || null,
    };
    try {
      const result = outcome((await gql<{ createApiKey: { __typename: string; name: string; key: string } }>(CREATE, { input })).createApiKey, "ApiKeyCreated");
      setStatus("");
      setCopied(false);
      setCreated(result);
      setAnnounce(`Key “${result.name}” created. Copy its secret now: it is shown only once.`);
      form.reset();
      q.reload();
    } catch (error) {
      setStatus(errorMessage(error));
    }
  };

  const closeRevoke = async () => {
    const key = revoking;
    const confirmed = dialog.current?.returnValue === "revoke";
    setRevoking(null);
    if (!key) return;
    if (confirmed) {
      try {
        outcome((await gql<{ revokeApiKey: { __typename: string } }>(REVOKE, { id: key.id })).revokeApiKey, "ApiKey");
        setAnnounce(`Revoked “${key.name}”.`);
        q.reload();
      } catch (error) {
        setAnnounce(errorMessage(error));
      }
    }
    table.current?.focus();
  };

  const closeRoll = async () => {
    const key = rolling;
    const choice = rollDialog.current?.returnValue ?? "cancel";
    setRolling(null);
    if (!key || choice === "cancel") return;
    try {
      const made = outcome(
        (await gql<{ rollApiKey: { __typename: string; name: string; key: string } }>(ROLL, { id: key.id, grace: Number(choice) }))
          .rollApiKey,
        "ApiKeyCreated",
      );
      setCopied(false);
      setCreated(made);
      setAnnounce(`Key “${made.name}” rolled: copy the new secret now. The old one stops working ${GRACE.find(([g]) => String(g) === choice)?.[1]}.`);
      q.reload();
    } catch (error) {
      setAnnounce(errorMessage(error));
    }
  };

  const header = (column: Column, label: string) => {
    const active = sort.by === column;
    return (
      <th scope="col" key={column} aria-sort={active ? (sort.desc ? "descending" : "ascending") : "none"}>
        <button type="button" className="sort" onClick={() => setSort({ by: column, desc: active ? !sort.desc : false })}>
          {label}
          <span aria-hidden="true">{active ? (sort.desc ? " ▼" : " ▲") : ""}</span>
        </button>
      </th>
    );
  };

  return (
    <>
      <h1>API keys</h1>
      <p>Integrations authenticate with these keys: Authorization: Bearer, X-API-Key or ?apiKey=.</p>
      <p className="sr-only" role="status" aria-live="polite">
        {announce}
      </p>
      {created ? (
        <section className="secret" aria-labelledby="secret-title">
          <h2 id="secret-title">Your new key “{created.name}”</h2>
          <p className="warning">
            Copy it now: this is the only time it is shown. Keep it secret — it gives full access to your organization's data.
          </p>
          <code id="new-key" ref={secret} tabIndex={-1} aria-label={`Secret of the new key ${created.name}`}>
            {created.key}
          </code>
          <button
            type="button"
            onClick={async () => {
              try {
                await navigator.clipboard.writeText(created.key);
                setCopied(true);
                setAnnounce("API key copied to the clipboard.");
              } catch {
                setAnnounce("Copy failed: select the key and copy it by hand.");
              }
            }}
          >
            {copied ? "Copied" : "Copy key"}
          </button>
        </section>
      ) : null}
      <h2>Create a key</h2>
      <form className="inline" aria-label="Create an API key" onSubmit={create}>
        <div className="field">
          <label htmlFor="key-name">Name</label>
          <input id="key-name" name="name" required maxLength={200} placeholder="e.g. LMS sync" />
        </div>
        <div className="field">
          <label htmlFor="key-expires">Expires (optional)</label>
          <input id="key-expires" name="expires" type="date" />
        </div>
        <div className="field">
          <label htmlFor="key-scope">Access</label>
          <select id="key-scope" name="scope" defaultValue="">
            {SCOPES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Create key</button>
      </form>
      {status ? (
        <p role="alert" className="error">
          {status}
        </p>
      ) : null}
      <h2>Keys</h2>
      {q.error ? (
        <ErrorPanel error={q.error} retry={q.reload} title="The keys could not be loaded" />
      ) : !q.data ? (
        <Loading />
      ) : q.data.apiKeys.length ? (
        <>
          <div className="table-controls">
            <div className="field">
              <label htmlFor="key-filter">Find a key</label>
              <input id="key-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="key-sort">Sort by</label>
              <select
                id="key-sort"
                value={`${sort.by}:${sort.desc ? "desc" : "asc"}`}
                onChange={(e) => {
                  const [by, direction] = e.target.value.split(":");
                  setSort({ by: by as Column, desc: direction === "desc" });
                }}
              >
                {COLUMNS.flatMap(([column, label]) =>
                  (["asc", "desc"] as const).map((direction) => (
                    <option key={`${column}:${direction}`} value={`${column}:${direction}`}>
                      {label}, {direction === "asc" ? "ascending" : "descending"}
                    </option>
                  )),
                )}
              </select>
            </div>
          </div>
          <table className="keys stack" ref={table} tabIndex={-1} aria-label="API keys">
            <thead>
              <tr>
                {COLUMNS.slice(0, 1).map(([c, l]) => header(c, l))}
                <th scope="col">Prefix</th>
                {COLUMNS.slice(1).map(([c, l]) => header(c, l))}
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((k) => (
                <tr key={k.id}>
                  <td data-label="Name" className="key-name">{k.name}</td>
                  <td data-label="Prefix">
                    <code>{k.prefix}…</code>
                  </td>
                  <td data-label="Created">{fmtTime(k.createdAt)}</td>
                  <td data-label="Expires">{fmtTime(k.expiresAt)}</td>
                  <td data-label="Last used">{fmtTime(k.lastUsedAt)}</td>
                  <td data-label="Status">
                    <span className={`badge ${k.status}`}>{k.status}</span>
                    {k.scope ? <span className="badge">{k.scope} only</span> : null}
                  </td>
                  <td data-label="">
                    <div className="actions">
                      <button className="secondary" type="button" aria-label={`Usage of ${k.name}`} onClick={() => setUsageOf(k)}>
                        Usage
                      </button>
                      {k.status === "active" ? (
                        <>
                          <button className="secondary" type="button" aria-label={`Roll ${k.name}`} onClick={() => setRolling(k)}>
                            Roll
                          </button>
                          <button className="danger" type="button" aria-label={`Revoke ${k.name}`} onClick={() => setRevoking(k)}>
                            Revoke
                          </button>
                        </>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {!rows.length ? <p className="muted">No key matches “{filter}”.</p> : null}
        </>
      ) : (
        <p className="muted">No keys yet.</p>
      )}
      {usageOf ? <Usage key={usageOf.id} apiKey={usageOf} /> : null}
      <dialog ref={rollDialog} aria-labelledby="roll-title" onClose={closeRoll}>
        {rolling ? (
          <>
            <h2 id="roll-title">Roll “{rolling.name}”?</h2>
            <p>You get a new secret for this integration. When should the old one stop working?</p>
            <form method="dialog" className="inline">
              <button className="secondary" value="cancel" autoFocus>
                Cancel
              </button>
              {GRACE.map(([seconds, label]) => (
                <button key={seconds} value={String(seconds)}>
                  Old key stops {label}
                </button>
              ))}
            </form>
          </>
        ) : null}
      </dialog>
      <dialog ref={dialog} aria-labelledby="revoke-title" onClose={closeRevoke}>
        {revoking ? (
          <>
            <h2 id="revoke-title">Revoke “{revoking.name}”?</h2>
            <p>Integrations using this key stop working at once. This cannot be undone.</p>
            <form method="dialog" className="inline">
              <button className="secondary" value="cancel" autoFocus>
                Cancel
              </button>
              <button className="danger" value="revoke">
                Revoke key
              </button>
            </form>
          </>
        ) : null}
      </dialog>
    </>
  );
}

function Usage({ apiKey }: { apiKey: Key }) {
  type Day = { day: string; requests: number; rateLimited: number };
  const q = useQuery(() => gql<{ apiKeyUsage: Day[] | null }>(USAGE, { id: apiKey.id }), [apiKey.id]);
  if (q.error) return <ErrorPanel error={q.error} retry={q.reload} title="The usage could not be loaded" />;
  if (!q.data?.apiKeyUsage) return <Loading />;
  const days = q.data.apiKeyUsage;
  const total = days.reduce((sum, d) => sum + d.requests, 0);
  const limited = days.reduce((sum, d) => sum + d.rateLimited, 0);
  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">Usage of “{apiKey.name}”, last 30 days</h2>
      <p role="status">
        {total.toLocaleString()} requests, {limited.toLocaleString()} of them refused by the rate limit (429).
      </p>
      <BarChart
        title={`Requests per day with ${apiKey.name}`}
        xLabel="Day (UTC)"
        yLabel="Requests"
        data={days.map((d) => ({ label: d.day.slice(5), count: d.requests }))}
      />
    </section>
  );
}
