// Every signed-in page: the header (navigation, organization, sign-out) stays whatever the page's fate.
import { useEffect, useRef, useState } from "react";
import { Navigate, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { ApiError, gql } from "../api";
import { clearSession, currentOrg, setCurrentOrg, token } from "../session";
import { CreateOrganization } from "../pages/CreateOrganization";
import { ErrorPanel, Loading } from "./ErrorPanel";
import { Invitations } from "./Invitations";
import { useQuery } from "./useQuery";

export interface Organization {
  id: string;
  name: string;
  role: string | null;
}

// The last three are for owners and admins: a known member does not see them.
const NAV: [string, string, boolean][] = [
  ["/", "Dashboard", false],
  ["/pipelines", "Pipelines", false],
  ["/learners", "Learners", false],
  ["/settings/api-keys", "API keys", true],
  ["/settings/members", "Members", false],
  ["/settings/audit-log", "Audit log", true],
];

export function Layout() {
  const location = useLocation();
  const navigate = useNavigate();
  const main = useRef<HTMLElement>(null);
  const [org, setOrg] = useState(currentOrg());
  const orgs = useQuery(() => gql<{ organizations: Organization[] }>("{ organizations { id name role } }"), []);
  const list = orgs.data?.organizations ?? [];
  const chosen = list.find((o) => o.id === org) ?? list[0];

  useEffect(() => {
    // Not while reloading: the list then is the one before (an organization just joined is not in it yet).
    if (!orgs.loading && chosen && chosen.id !== org) {
      setCurrentOrg(chosen.id);
      setOrg(chosen.id);
    }
  }, [chosen, org, orgs.loading]);
  useEffect(() => main.current?.focus({ preventScroll: true }), [location.pathname]);

  if (!token()) return <Navigate to="/login" replace />;
  if (orgs.error instanceof ApiError && orgs.error.kind === "auth") {
    clearSession();
    return <Navigate to="/login" replace state={{ message: orgs.error.message }} />;
  }
  const signOut = () => {
    clearSession();
    navigate("/login");
  };

  let body;
  if (orgs.error) body = <ErrorPanel error={orgs.error} retry={orgs.reload} />;
  else if (orgs.loading || (chosen && chosen.id !== org)) body = <Loading />;
  else if (!chosen) body = <CreateOrganization onCreated={(o) => { setCurrentOrg(o.id); orgs.reload(); navigate("/settings/api-keys"); }} />;
  else body = <Outlet key={chosen.id} context={chosen} />;

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <NavLink to="/" className="brand">
          CoursePipeline
        </NavLink>
        <nav aria-label="Main">
          {NAV.filter(([, , admin]) => !admin || chosen?.role !== "member").map(([to, label]) => (
            <NavLink key={to} to={to} end={to === "/"} className={navActive(to, location.pathname)}>
              {label}
            </NavLink>
          ))}
        </nav>
        <span className="spacer" />
        {list.length > 1 ? (
          <div className="field inline-field">
            <label htmlFor="org-switcher">Organization</label>
            <select
              id="org-switcher"
              value={chosen?.id}
              onChange={(e) => {
                setCurrentOrg(e.target.value);
                setOrg(e.target.value);
              }}
            >
              {list.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </div>
        ) : chosen ? (
          <span className="muted org-name">{chosen.name}</span>
        ) : null}
        <button className="secondary" type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {orgs.data ? ( // after the organizations: a refusal of the first request is the page's to show
          <Invitations
            onJoined={(o) => {
              setCurrentOrg(o.id);
              setOrg(o.id);
              orgs.reload();
            }}
          />
        ) : null}
        {body}
      </main>
    </>
  );
}

// The dashboard's own pages (a course, a chatbot, a variable) keep "Dashboard" marked as where the reader is.
function navActive(to: string, path: string): (state: { isActive: boolean }) => string | undefined {
  return ({ isActive }) =>
    isActive || (to === "/" && /^\/(courses|chatbots|variables)\//.test(path)) ? "active" : undefined;
}
