import { useState, type FormEvent } from "react";
import { gql, outcome, USER_ERROR } from "../api";
import { errorMessage } from "../components/ErrorPanel";
import type { Organization } from "../components/Layout";

export function CreateOrganization({ onCreated }: { onCreated: (org: Organization) => void }) {
  const [status, setStatus] = useState("");
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = new FormData(event.currentTarget).get("name");
    try {
      const data = await gql<{ createOrganization: Organization & { __typename: string } }>(
        `mutation($name: String!) { createOrganization(name: $name) {
          __typename ... on Organization { id name role } ${USER_ERROR} } }`,
        { name },
      );
      onCreated(outcome(data.createOrganization, "Organization"));
    } catch (error) {
      setStatus(errorMessage(error));
    }
  };
  return (
    <>
      <h1>Create your organization</h1>
      <p>You are not a member of any organization yet. Create one to get API keys and see its courses.</p>
      <form className="inline" onSubmit={submit}>
        <div className="field">
          <label htmlFor="org-name">Organization name</label>
          <input id="org-name" name="name" required maxLength={200} />
        </div>
        <button type="submit">Create organization</button>
      </form>
      <p role="status" className="error">
        {status}
      </p>
    </>
  );
}
