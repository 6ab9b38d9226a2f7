// GraphiQL at /graphql, with the explorer. Signed in to the web UI, it uses the session's token and organization;
// otherwise the developer pastes an API key once. Either way the credential goes on every request, introspection
// included. A new credential makes a new fetcher, and GraphiQL introspects again with it (remounting instead would
// restore its stored tabs beside a new empty one).
import { explorerPlugin } from "@graphiql/plugin-explorer";
import "@graphiql/plugin-explorer/dist/style.css";
import type { Fetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";
import { StrictMode, useMemo, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { currentOrg, token } from "./session";

const KEY = "cp_graphiql_key"; // this tab only: a pasted key is not kept after the tab closes

// Earlier versions stored a placeholder Authorization header that then went out on every request.
for (const name of ["graphiql:headers"]) {
  if ((localStorage.getItem(name) ?? "").includes("YOUR_API_KEY")) localStorage.removeItem(name);
}

type Credential = { kind: "session"; token: string; org: string | null } | { kind: "key"; key: string } | null;

function credential(): Credential {
  const session = token();
  if (session) return { kind: "session", token: session, org: currentOrg() };
  const key = sessionStorage.getItem(KEY);
  return key ? { kind: "key", key } : null;
}

function headersFor(c: Credential): Record<string, string> {
  if (!c) return {};
  if (c.kind === "key") return { Authorization: `Bearer ${c.key}` };
  return { Authorization: `Bearer ${c.token}`, ...(c.org ? { "X-Organization-Id": c.org } : {}) };
}

const DEFAULT_QUERY = `# Courses with their statistics. Ctrl-Enter runs the query; the Explorer (left) builds others.
{
  courses(limit: 5) {
    data { id name stats { enrolledLearners valuesRecorded } }
  }
}
`;

function Page() {
  const [current, setCurrent] = useState<Credential>(credential);
  const explorer = useMemo(() => explorerPlugin(), []);
  const fetcher = useMemo<Fetcher>(
    () => async (params, options) => {
      if (!current && !options?.headers?.Authorization) {
        // Nothing to authenticate with yet: say so instead of collecting a 401.
        return { errors: [{ message: "Paste an API key in the field above (or sign in to the web UI) first." }] };
      }
      const response = await fetch("/graphql", {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headersFor(current), ...(options?.headers ?? {}) },
        body: JSON.stringify(params),
      });
      return response.json();
    },
    [current],
  );
  const useKey = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const key = String(new FormData(event.currentTarget).get("key") ?? "").trim();
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    setCurrent({ kind: "key", key });
  };
  const forget = () => {
    sessionStorage.removeItem(KEY);
    setCurrent(credential());
  };
  return (
    <div className="graphiql-page">
      <header className="graphiql-bar">
        <a href="/">CoursePipeline</a>
        {current?.kind === "session" ? (
          <span>Signed in: requests use your session and organization.</span>
        ) : current?.kind === "key" ? (
          <span>
            Using the API key <code>{current.key.slice(0, 10)}…</code>{" "}
            <button type="button" onClick={forget}>
              Use another key
            </button>
          </span>
        ) : (
          <form onSubmit={useKey} aria-label="API key for GraphiQL">
            <label htmlFor="graphiql-key">API key (sent as Authorization: Bearer on every request)</label>
            <input id="graphiql-key" name="key" type="password" autoComplete="off" required placeholder="cp_…" />
            <button type="submit">Use key</button>
          </form>
        )}
      </header>
      <div className="graphiql-host">
        <GraphiQL
          fetcher={fetcher}
          plugins={[explorer]}
          defaultQuery={DEFAULT_QUERY}
          shouldPersistHeaders={false}
        />
      </div>
    </div>
  );
}

// GraphiQL's editors are CodeMirror textareas without names, and its light theme's token colours fall short of
// WCAG AA: name them as they appear and darken the colours, so the page passes the same scan as the rest of the UI.
const EDITOR_NAMES: [string, string][] = [
  [".graphiql-query-editor textarea", "Query editor"],
  [".graphiql-editor-tool .graphiql-editor:not(.hidden) textarea", "Variables or headers editor"],
  [".graphiql-response textarea", "Response"],
];

function nameEditors(): void {
  for (const [selector, name] of EDITOR_NAMES) {
    for (const area of document.querySelectorAll<HTMLTextAreaElement>(selector)) {
      if (!area.getAttribute("aria-label")) area.setAttribute("aria-label", name);
    }
  }
  for (const area of document.querySelectorAll<HTMLTextAreaElement>(".graphiql-editor textarea")) {
    if (!area.getAttribute("aria-label")) area.setAttribute("aria-label", "Editor");
  }
  for (const scroller of document.querySelectorAll<HTMLElement>(".CodeMirror-scroll:not([tabindex=\"0\"])")) {
    scroller.tabIndex = 0; // a scrolling region the keyboard can reach
  }
}
new MutationObserver(nameEditors).observe(document.body, { childList: true, subtree: true });

const style = document.createElement("style");
style.textContent = `
  html, body, #root { height: 100%; margin: 0; }
  .graphiql-page { display: flex; flex-direction: column; height: 100%; font: 14px system-ui, sans-serif; }
  .graphiql-bar { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .5rem 1rem;
                  border-bottom: 1px solid #d0d7de; }
  .graphiql-bar form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
  .graphiql-bar input { padding: .3rem .5rem; min-width: 16rem; }
  .graphiql-host { flex: 1; min-height: 0; }
  body:not(.graphiql-dark) .graphiql-container .graphiql-logo a.graphiql-logo-link { color: #4b5567; }
  body:not(.graphiql-dark) .graphiql-container .cm-property { color: #0057a8; }
  body:not(.graphiql-dark) .graphiql-container .cm-attribute { color: #006475; }
  body:not(.graphiql-dark) .graphiql-container .cm-keyword { color: #a4125a; }
  body:not(.graphiql-dark) .graphiql-container .cm-def { color: #7a3e00; }
  body:not(.graphiql-dark) .graphiql-container .cm-qualifier,
  body:not(.graphiql-dark) .graphiql-container .cm-variable,
  body:not(.graphiql-dark) .graphiql-container .cm-atom { color: #6b3fa0; }
  body:not(.graphiql-dark) .graphiql-container .cm-number,
  body:not(.graphiql-dark) .graphiql-container .cm-string,
  body:not(.graphiql-dark) .graphiql-container .cm-builtin { color: #1a6b35; }
  body:not(.graphiql-dark) .graphiql-container .cm-comment { color: #5c6370; }
`;
document.head.append(style);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Page />
  </StrictMode>,
);
