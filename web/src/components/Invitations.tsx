// Invitations of the signed-in person's email that wait for them: each joins its own organization, on purpose.
import { useState } from "react";
import { USER_ERROR, gql, outcome } from "../api";
import type { Organization } from "./Layout";
import { useQuery } from "./useQuery";

interface PendingInvitation {
  id: string;
  organizationName: string;
  role: string;
}

export function Invitations({ onJoined }: { onJoined: (org: Organization) => void }) {
  const pending = useQuery(
    () => gql<{ myInvitations: PendingInvitation[] }>("{ myInvitations { id organizationName role } }"),
    [],
  );
  const [error, setError] = useState<string | null>(null);
  const list = pending.data?.myInvitations ?? [];
  if (list.length === 0) return null;

  const accept = async (invitation: PendingInvitation) => {
    setError(null);
    try {
      const data = await gql<{ acceptInvitation: Organization & { __typename: string } }>(
        `mutation($id: UUID!) { acceptInvitation(id: $id) { __typename ... on Organization { id name role } ${USER_ERROR} } }`,
        { id: invitation.id },
      );
      onJoined(outcome(data.acceptInvitation, "Organization"));
      pending.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      pending.reload();
    }
  };

  return (
    <section className="invitations" aria-label="Invitations">
      {list.map((invitation) => (
        <p key={invitation.id}>
          <strong>{invitation.organizationName}</strong> invited you as {invitation.role.toLowerCase()}.{" "}
          <button type="button" onClick={() => void accept(invitation)}>
            Join {invitation.organizationName}
          </button>
        </p>
      ))}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </section>
  );
}
