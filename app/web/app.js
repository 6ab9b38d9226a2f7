// CoursePipeline web UI: a small single-page app that talks only to /graphql with the signed-in user's token.
(() => {
"use strict";

const config = window.COURSEPIPELINE || { mode: "local" };
const main = document.getElementById("main");
const header = document.getElementById("top");
const toast = document.getElementById("toast");
let authClient = null;
let organizations = [];

// --- DOM helper: every piece of text goes in through textContent, never as HTML ---
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
const link = (href, ...children) => h("a", { href, "data-link": true }, ...children);
const fmt = (time) => (time ? new Date(time).toLocaleString() : "—");
const num = (x) => (x === null || x === undefined ? "—" : Number(x).toLocaleString(undefined, { maximumFractionDigits: 2 }));
function notify(message) { toast.textContent = message; setTimeout(() => { if (toast.textContent === message) toast.textContent = ""; }, 4000); }

// --- session ---
const token = () => localStorage.getItem("cp_token");
const currentOrg = () => localStorage.getItem("cp_org");
function signOut() {
  localStorage.removeItem("cp_token"); localStorage.removeItem("cp_org");
  if (authClient) authClient.auth.signOut();
  navigate("/login");
}

class AuthError extends Error {}

async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token()}` };
  if (currentOrg()) headers["X-Organization-Id"] = currentOrg();
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  if (response.status === 401) throw new AuthError("Your session has ended. Please sign in again.");
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `Request failed (${response.status})`);
  if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
  return body.data;
}

// --- routing ---
function navigate(path) { history.pushState(null, "", path); render(); }
document.addEventListener("click", (event) => {
  const a = event.target.closest("a[data-link]");
  if (a && !event.metaKey && !event.ctrlKey) { event.preventDefault(); navigate(a.getAttribute("href")); }
});
window.addEventListener("popstate", () => render());

const routes = [
  [/^\/$/, dashboard], [/^\/courses\/([\w-]+)$/, coursePage], [/^\/variables\/([\w-]+)$/, variablePage],
  [/^\/learners$/, learnersPage], [/^\/settings\/api-keys$/, apiKeysPage],
];

// Each render paints only if no newer render started meanwhile (a slow page must not overwrite a newer one).
let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  const paint = (...nodes) => { if (seq === renderSeq) main.replaceChildren(...nodes); };
  const path = location.pathname;
  if (path === "/login" || !token()) { header.replaceChildren(); return loginPage(); }
  try {
    if (!organizations.length) organizations = (await gql("{ organizations { id name role } }")).organizations;
    if (!organizations.length) { renderHeader(); return createOrganizationPage(); }
    if (!organizations.some((o) => o.id === currentOrg())) localStorage.setItem("cp_org", organizations[0].id);
    renderHeader();
    for (const [pattern, view] of routes) {
      const match = path.match(pattern);
      if (match) {
        paint(h("p", { class: "muted" }, "Loading…"));
        await view(paint, ...match.slice(1));
        if (seq === renderSeq) main.focus();
        return;
      }
    }
    paint(h("h1", {}, "Page not found"), link("/", "Back to the dashboard"));
  } catch (error) {
    if (error instanceof AuthError) { localStorage.removeItem("cp_token"); organizations = []; return loginPage(error.message); }
    paint(h("h1", {}, "Something went wrong"), h("p", { class: "error", role: "alert" }, error.message));
  }
}

function renderHeader() {
  const here = location.pathname;
  const nav = [["/", "Dashboard"], ["/learners", "Learners"], ["/settings/api-keys", "API keys"]].map(([href, label]) =>
    h("a", { href, "data-link": true, "aria-current": (href === "/" ? here === "/" || here.startsWith("/courses") || here.startsWith("/variables") : here.startsWith(href)) ? "page" : null }, label));
  let switcher = null;
  if (organizations.length > 1) {
    const select = h("select", { id: "org-switcher", onchange: (e) => { localStorage.setItem("cp_org", e.target.value); render(); } },
      organizations.map((o) => h("option", { value: o.id, selected: o.id === currentOrg() }, o.name)));
    switcher = h("div", { class: "field" }, h("label", { for: "org-switcher" }, "Organization"), select);
  } else if (organizations.length === 1) {
    switcher = h("span", { class: "muted" }, organizations[0].name);
  }
  header.replaceChildren(
    h("a", { href: "/", class: "brand", "data-link": true }, "CoursePipeline"),
    h("nav", { "aria-label": "Main" }, nav), h("span", { class: "spacer" }), switcher,
    h("button", { class: "secondary", type: "button", onclick: signOut }, "Sign out"),
  );
}

// --- sign-in ---
function loginPage(message) {
  history.replaceState(null, "", "/login");
  const note = message ? h("p", { class: "error", role: "alert" }, message) : null;
  if (config.mode === "supabase") {
    const form = h("form", { onsubmit: async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const { data: session, error } = await authClient.auth.signInWithPassword({ email: data.get("email"), password: data.get("password") });
      if (error) { status.textContent = error.message; return; }
      localStorage.setItem("cp_token", session.session.access_token);
      organizations = []; navigate("/");
    } },
      h("div", { class: "field" }, h("label", { for: "email" }, "Email"), h("input", { id: "email", name: "email", type: "email", required: true, autocomplete: "email" })),
      h("div", { class: "field" }, h("label", { for: "password" }, "Password"), h("input", { id: "password", name: "password", type: "password", required: true, autocomplete: "current-password" })),
      h("p", {}, h("button", { type: "submit" }, "Sign in")));
    const status = h("p", { class: "error", role: "alert" });
    main.replaceChildren(h("section", { class: "login" }, h("h1", {}, "Sign in to CoursePipeline"), note, form, status));
    return;
  }
  main.replaceChildren(h("section", { class: "login" },
    h("h1", {}, "Sign in to CoursePipeline"), note,
    h("p", {}, "This server runs in embedded mode. Ask for a one-time sign-in link on the server:"),
    h("pre", {}, h("code", {}, "coursepipeline login-link --email you@example.com")),
    h("p", { class: "muted" }, "Open the link it prints in this browser within 15 minutes. `make run` prints one too.")));
}

async function createOrganizationPage() {
  const status = h("p", { role: "status" });
  const form = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const name = new FormData(form).get("name");
    const data = await gql(`mutation($name: String!) { createOrganization(name: $name) {
      __typename ... on Organization { id name role } ... on UserError { message } } }`, { name });
    const result = data.createOrganization;
    if (result.__typename !== "Organization") { status.textContent = result.message; return; }
    organizations = [result]; localStorage.setItem("cp_org", result.id); navigate("/settings/api-keys");
  } },
    h("div", { class: "field" }, h("label", { for: "org-name" }, "Organization name"), h("input", { id: "org-name", name: "name", required: true, maxlength: 200 })),
    h("button", { type: "submit" }, "Create organization"));
  main.replaceChildren(h("h1", {}, "Create your organization"),
    h("p", {}, "You are not a member of any organization yet. Create one to get API keys and see its courses."), form, status);
}

// --- dashboard, courses, variables ---
async function dashboard(paint) {
  const data = await gql(`{ courses(limit: 200) { data { id name externalId active
    stats { enrolledLearners learnersWithValues variables activeVariables valuesRecorded lastActivityAt } } } }`);
  const courses = data.courses.data;
  paint(h("h1", {}, "Courses"),
    courses.length ? h("div", { class: "cards" }, courses.map((c) => h("article", { class: "card" },
      h("h2", {}, link(`/courses/${c.id}`, c.name)),
      h("p", { class: "muted" }, c.externalId || "no external id", c.active ? "" : " · inactive"),
      h("dl", { class: "stats" },
        h("dt", {}, "Learners"), h("dd", {}, num(c.stats.enrolledLearners)),
        h("dt", {}, "Variables"), h("dd", {}, `${c.stats.activeVariables} / ${c.stats.variables}`),
        h("dt", {}, "Values"), h("dd", {}, num(c.stats.valuesRecorded)),
        h("dt", {}, "Last activity"), h("dd", {}, fmt(c.stats.lastActivityAt))))))
      : h("p", { class: "muted" }, "No courses yet. Create them through the GraphQL API (createCourse)."));
}

async function coursePage(paint, id) {
  const data = await gql(`query($id: UUID!) { course(id: $id) { id name description externalId
    runs { id name startsAt endsAt } variables { id name type active description } } }`, { id });
  const course = data.course;
  if (!course) { paint(h("h1", {}, "Course not found"), link("/", "Back to the dashboard")); return; }
  paint(h("p", {}, link("/", "← Courses")), h("h1", {}, course.name),
    course.description ? h("p", {}, course.description) : null,
    h("h2", {}, "Variables"),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Description"))),
      h("tbody", {}, course.variables.map((v) => h("tr", {},
        h("td", {}, link(`/variables/${v.id}`, v.name)), h("td", {}, v.type.toLowerCase()),
        h("td", {}, v.active ? "active" : "inactive"), h("td", {}, v.description || "")))))),
    h("h2", {}, "Runs"),
    course.runs.length ? h("ul", {}, course.runs.map((r) => h("li", {}, `${r.name}: ${fmt(r.startsAt)} – ${fmt(r.endsAt)}`)))
      : h("p", { class: "muted" }, "No runs."));
}

function barChart(title, bars) {
  const width = 640, height = 260, left = 40, bottom = 60, gap = 4;
  const max = Math.max(1, ...bars.map((b) => b.count));
  const w = bars.length ? (width - left) / bars.length : 0;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${title}: ${bars.map((b) => `${b.label} ${b.count}`).join(", ")}`);
  const add = (tag, attrs, text) => {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el); return el;
  };
  bars.forEach((b, i) => {
    const barHeight = ((height - bottom - 10) * b.count) / max;
    const x = left + i * w + gap / 2, y = height - bottom - barHeight;
    add("rect", { class: "bar", x, y, width: Math.max(1, w - gap), height: barHeight }).append(
      Object.assign(document.createElementNS("http://www.w3.org/2000/svg", "title"), { textContent: `${b.label}: ${b.count}` }));
    add("text", { x: x + (w - gap) / 2, y: y - 3, "text-anchor": "middle" }, String(b.count));
    add("text", { x: x + (w - gap) / 2, y: height - bottom + 14, "text-anchor": "end",
                  transform: `rotate(-35 ${x + (w - gap) / 2} ${height - bottom + 14})` }, b.label.slice(0, 18));
  });
  add("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#57606a" });
  return h("figure", { class: "chart" }, svg, h("figcaption", { class: "muted" }, title));
}

async function variablePage(paint, id) {
  const data = await gql(`query($id: UUID!) { variable(id: $id) { id name type description courseId active
    course { id name }
    aggregate { valuesRecorded learnersWithValue lastRecordedAt
      numeric { count min max mean median stddev percentiles { p25 p75 p90 } } distribution { value count } }
    histogram(buckets: 10) { lower upper count }
    values(limit: 20) { value recordedAt courseRunId learner { email } } } }`, { id });
  const v = data.variable;
  if (!v) { paint(h("h1", {}, "Variable not found"), link("/", "Back to the dashboard")); return; }
  const a = v.aggregate;
  const summary = [["Values recorded", num(a.valuesRecorded)], ["Learners with a value", num(a.learnersWithValue)], ["Last recorded", fmt(a.lastRecordedAt)]];
  if (a.numeric) summary.push(["Mean", num(a.numeric.mean)], ["Median", num(a.numeric.median)], ["Std. deviation", num(a.numeric.stddev)],
                              ["Min – max", `${num(a.numeric.min)} – ${num(a.numeric.max)}`], ["p25 / p75 / p90", `${num(a.numeric.percentiles.p25)} / ${num(a.numeric.percentiles.p75)} / ${num(a.numeric.percentiles.p90)}`]);
  let chart;
  if (v.type === "NUMBER") chart = v.histogram.length ? barChart(`Histogram of current values of ${v.name}`, v.histogram.map((b) => ({ label: `${num(b.lower)}–${num(b.upper)}`, count: b.count }))) : null;
  else chart = a.distribution && a.distribution.length ? barChart(`Distribution of current values of ${v.name}`, a.distribution.map((d) => ({ label: typeof d.value === "string" ? d.value : JSON.stringify(d.value), count: d.count }))) : null;
  paint(
    h("p", {}, v.course ? link(`/courses/${v.course.id}`, `← ${v.course.name}`) : link("/", "← Courses")),
    h("h1", {}, v.name, " ", h("span", { class: "muted" }, `(${v.type.toLowerCase()})`)),
    v.description ? h("p", {}, v.description) : null,
    h("dl", { class: "stats" }, summary.flatMap(([k, val]) => [h("dt", {}, k), h("dd", {}, val)])),
    h("h2", {}, "Current values"), chart || h("p", { class: "muted" }, "No values yet."),
    h("h2", {}, "Latest values"),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Learner"), h("th", { scope: "col" }, "Value"), h("th", { scope: "col" }, "Recorded"))),
      h("tbody", {}, v.values.map((x) => h("tr", {}, h("td", {}, x.learner ? x.learner.email : "—"),
        h("td", {}, typeof x.value === "string" ? x.value : JSON.stringify(x.value)), h("td", {}, fmt(x.recordedAt))))))));
}

async function learnersPage(paint) {
  const params = new URLSearchParams(location.search);
  const search = params.get("search") || "";
  const data = await gql(`query($search: String) { learners(search: $search, limit: 50) { data { id email name externalId createdAt } pagination { hasMore } } }`, { search: search || null });
  const form = h("form", { class: "inline", role: "search", onsubmit: (event) => {
    event.preventDefault(); navigate(`/learners?search=${encodeURIComponent(new FormData(form).get("search"))}`);
  } },
    h("div", { class: "field" }, h("label", { for: "learner-search" }, "Search by name or email"), h("input", { id: "learner-search", name: "search", type: "search", value: search })),
    h("button", { type: "submit" }, "Search"));
  const rows = data.learners.data;
  paint(h("h1", {}, "Learners"), form,
    h("p", { class: "muted", role: "status" }, `${rows.length}${data.learners.pagination.hasMore ? "+" : ""} learner(s)`),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Email"), h("th", { scope: "col" }, "External id"), h("th", { scope: "col" }, "Since"))),
      h("tbody", {}, rows.map((l) => h("tr", {}, h("td", {}, l.name || "—"), h("td", {}, l.email), h("td", {}, l.externalId || "—"), h("td", {}, fmt(l.createdAt))))))));
}

// --- API keys ---
async function apiKeysPage(paint, created) {
  const data = await gql("{ apiKeys { id name prefix createdAt expiresAt lastUsedAt revokedAt status } }");
  const status = h("p", { role: "status", class: "error" });
  const form = h("form", { class: "inline", "aria-label": "Create an API key", onsubmit: async (event) => {
    event.preventDefault();
    const values = new FormData(form);
    const expires = values.get("expires");
    const input = { name: values.get("name"), expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : null };
    const result = (await gql(`mutation($input: ApiKeyInput!) { createApiKey(input: $input) {
      __typename ... on ApiKeyCreated { id name key } ... on UserError { message } } }`, { input })).createApiKey;
    if (result.__typename !== "ApiKeyCreated") { status.textContent = result.message; return; }
    await apiKeysPage(paint, result);
  } },
    h("div", { class: "field" }, h("label", { for: "key-name" }, "Name"), h("input", { id: "key-name", name: "name", required: true, maxlength: 200, placeholder: "e.g. LMS sync" })),
    h("div", { class: "field" }, h("label", { for: "key-expires" }, "Expires (optional)"), h("input", { id: "key-expires", name: "expires", type: "date" })),
    h("button", { type: "submit" }, "Create key"));

  let secretBox = null;
  if (created) {
    const copy = h("button", { type: "button", onclick: async () => {
      try { await navigator.clipboard.writeText(created.key); copy.textContent = "Copied"; notify("API key copied to the clipboard"); }
      catch { notify("Copy failed: select the key and copy it by hand"); }
    } }, "Copy key");
    secretBox = h("section", { class: "secret", "aria-labelledby": "secret-title" },
      h("h2", { id: "secret-title" }, `Your new key “${created.name}”`),
      h("p", { class: "warning" }, "Copy it now: this is the only time it is shown. Keep it secret — it gives full access to your organization's data."),
      h("code", { id: "new-key" }, created.key), copy);
  }

  const dialog = h("dialog", { "aria-labelledby": "revoke-title" });
  const rows = data.apiKeys.map((k) => h("tr", {},
    h("td", {}, k.name), h("td", {}, h("code", {}, `${k.prefix}…`)), h("td", {}, fmt(k.createdAt)), h("td", {}, fmt(k.expiresAt)),
    h("td", {}, fmt(k.lastUsedAt)), h("td", {}, h("span", { class: `badge ${k.status}` }, k.status)),
    h("td", {}, k.status === "active" ? h("button", { class: "danger", type: "button", "aria-label": `Revoke ${k.name}`,
      onclick: () => confirmRevoke(paint, dialog, k) }, "Revoke") : "")));
  paint(h("h1", {}, "API keys"),
    h("p", {}, "Integrations authenticate with these keys (Authorization: Bearer, X-API-Key or ?apiKey=)."),
    secretBox, h("h2", {}, "Create a key"), form, status, h("h2", {}, "Keys"),
    rows.length ? h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Name", "Prefix", "Created", "Expires", "Last used", "Status", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows))) : h("p", { class: "muted" }, "No keys yet."), dialog);
  const secretShown = document.getElementById("new-key");
  if (created && secretShown) secretShown.scrollIntoView();
}

function confirmRevoke(paint, dialog, key) {
  dialog.replaceChildren(
    h("h2", { id: "revoke-title" }, `Revoke “${key.name}”?`),
    h("p", {}, "Integrations using this key stop working at once. This cannot be undone."),
    h("form", { method: "dialog", class: "inline" },
      h("button", { class: "secondary", value: "cancel", autofocus: true }, "Cancel"),
      h("button", { class: "danger", value: "revoke" }, "Revoke key")));
  dialog.onclose = async () => {
    if (dialog.returnValue !== "revoke") return;
    const result = (await gql(`mutation($id: UUID!) { revokeApiKey(id: $id) { __typename ... on UserError { message } } }`, { id: key.id })).revokeApiKey;
    notify(result.__typename === "ApiKey" ? `Revoked “${key.name}”` : result.message);
    await apiKeysPage(paint);
  };
  dialog.showModal();
}

if (config.mode === "supabase") {
  // supabase-js refreshes the session before it expires; keep the token the API calls use in step with it.
  authClient = window.supabase.createClient(config.supabaseUrl, config.supabaseAnonKey);
  authClient.auth.onAuthStateChange((_event, session) => {
    if (session) localStorage.setItem("cp_token", session.access_token);
  });
}
render();
})();
