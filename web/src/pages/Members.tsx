// Members and invitations: who belongs, with which role; owners and admins invite, change roles and remove.
import { useState, type FormEvent } from "react";
import { useOutletContext } from "react-router";
import { gql, outcome, USER_ERROR } from "../api";
import { DataTable } from "../components/DataTable";
import { ErrorPanel, errorMessage, Loading } from "../components/ErrorPanel";
import { fmtTime } from "../components/format";
import type { Organization } from "../components/Layout";
import { useQuery } from "../components/useQuery";

type Role = "OWNER" | "ADMIN" | "MEMBER";
interface Member {
  userId: string;
  email: string;
  role: Role;
  createdAt: string;
}
interface Invitation {
  id: string;
  email: string;
  role: Role;
  expiresAt: string;
}

const ROLES: [Role, string][] = [
  ["MEMBER", "Member: reads data"],
  ["ADMIN", "Admin: data, keys and members"],
  ["OWNER", "Owner: everything"],
];
const LOAD = "{ members { userId email role createdAt } }";
const INVITATIONS = "{ invitations { id email role expiresAt } }";
const INVITE = `mutation($input: InvitationInput!) { inviteMember(input: $input) {
  __typename ... on InvitationCreated { email link } ${USER_ERROR} } }`;
const CHANGE = `mutation($userId: String!, $role: MemberRole!) { changeMemberRole(userId: $userId, role: $role) {
  __typename ... on Member { userId role } ${USER_ERROR} } }`;
const REMOVE = `mutation($userId: String!) { removeMember(userId: $userId) { __typename ... on Member { userId } ${USER_ERROR} } }`;

export function Members() {
  const org = useOutletContext<Organization>();
  const manages = org.role === "owner" || org.role === "admin";
  const people = useQuery(() => gql<{ members: Member[] }>(LOAD), []);
  const pending = useQuery(
    () => (manages ? gql<{ invitations: Invitation[] }>(INVITATIONS) : Promise.resolve({ invitations: [] })),
    [manages],
  );
  const [status, setStatus] = useState("");
  const [link, setLink] = useState<{ email: string; url: string } | null>(null);

  const act = async (work: () => Promise<string>) => {
    try {
      setStatus(await work());
      people.reload();
      pending.reload();
    } catch (error) {
      setStatus(errorMessage(error));
    }
  };
  const invite = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const values = new FormData(form);
    void act(async () => {
      const input = { email: values.get("email"), role: values.get("role") };
      const made = outcome((await gql<{ inviteMember: { __typename: string; email: string; link: string | null } }>(INVITE, { input })).inviteMember, "InvitationCreated");
      form.reset();
      setLink(made.link ? { email: made.email, url: `${location.origin}${made.link}` } : null);
      return made.link ? `Invited ${made.email}: send them the link below.` : `Invited ${made.email}: they join when they sign up with this email.`;
    });
  };
  const change = (m: Member, role: Role) =>
    act(async () => {
      outcome((await gql<{ changeMemberRole: { __typename: string } }>(CHANGE, { userId: m.userId, role })).changeMemberRole, "Member");
      return `${m.email} is now ${role.toLowerCase()}.`;
    });
  const remove = (m: Member) => {
    if (!window.confirm(`Remove ${m.email} from ${org.name}?`)) return;
    void act(async () => {
      outcome((await gql<{ removeMember: { __typename: string } }>(REMOVE, { userId: m.userId })).removeMember, "Member");
      return `Removed ${m.email}.`;
    });
  };

  return (
    <>
      <h1>Members</h1>
      <p role="status" className="status-line">
        {status}
      </p>
      {manages ? (
        <>
          <h2>Invite someone</h2>
          <form className="inline" aria-label="Invite a member" onSubmit={invite}>
            <div className="field">
              <label htmlFor="invite-email">Email</label>
              <input id="invite-email" name="email" type="email" required maxLength={320} />
            </div>
            <div className="field">
              <label htmlFor="invite-role">Role</label>
              <select id="invite-role" name="role" defaultValue="MEMBER">
                {ROLES.filter(([r]) => r !== "OWNER" || org.role === "owner").map(([r, label]) => (
                  <option key={r} value={r}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit">Invite</button>
          </form>
          {link ? (
            <section className="secret" aria-labelledby="invite-link-title">
              <h3 id="invite-link-title">Sign-in link for {link.email}</h3>
              <p className="warning">It works once, for 7 days. Send it to them privately.</p>
              <code id="invite-link">{link.url}</code>
            </section>
          ) : null}
        </>
      ) : (
        <p className="muted">Your role (member) reads the organization's data; owners and admins manage members.</p>
      )}
      <h2>People</h2>
      {people.error ? (
        <ErrorPanel error={people.error} retry={people.reload} title="The members could not be loaded" />
      ) : !people.data ? (
        <Loading />
      ) : (
        <DataTable
          label="Members"
          rows={people.data.members}
          rowKey={(m) => m.userId}
          columns={[
            { label: "Email", cell: (m) => m.email, className: "value" },
            {
              label: "Role",
              cell: (m) =>
                manages && (m.role !== "OWNER" || org.role === "owner") ? (
                  <select aria-label={`Role of ${m.email}`} value={m.role} onChange={(e) => void change(m, e.target.value as Role)}>
                    {ROLES.filter(([r]) => r !== "OWNER" || org.role === "owner").map(([r]) => (
                      <option key={r} value={r}>
                        {r.toLowerCase()}
                      </option>
                    ))}
                  </select>
                ) : (
                  m.role.toLowerCase()
                ),
            },
            { label: "Since", cell: (m) => fmtTime(m.createdAt) },
            {
              label: "Actions",
              cell: (m) =>
                manages && (m.role !== "OWNER" || org.role === "owner") ? (
                  <button type="button" className="danger" aria-label={`Remove ${m.email}`} onClick={() => remove(m)}>
                    Remove
                  </button>
                ) : null,
            },
          ]}
        />
      )}
      {manages && pending.data?.invitations.length ? (
        <>
          <h2>Pending invitations</h2>
          <DataTable
            label="Pending invitations"
            rows={pending.data.invitations}
            rowKey={(i) => i.id}
            columns={[
              { label: "Email", cell: (i) => i.email, className: "value" },
              { label: "Role", cell: (i) => i.role.toLowerCase() },
              { label: "Expires", cell: (i) => fmtTime(i.expiresAt) },
            ]}
          />
        </>
      ) : null}
    </>
  );
}
