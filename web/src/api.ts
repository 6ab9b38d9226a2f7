// The UI's only door to the server: POST /graphql with the signed-in user's token and the chosen organization.
import { currentOrg, token } from "./session";

export type ErrorKind = "auth" | "rate" | "network" | "server" | "request";

/** A request that did not give data: why (`kind`), what to tell the person, and for a 429 how long to wait. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** The typed errors mutations answer in their unions (`... on UserError`). */
export interface UserError {
  __typename: string;
  message: string;
  code: string;
  field?: string | null;
}

export const USER_ERROR = "... on UserError { message code field }";

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const org = currentOrg();
  if (org) headers["X-Organization-Id"] = org;
  let response: Response;
  try {
    response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError("The server could not be reached. Check your connection and retry.", "network");
  }
  const body = await response.json().catch(() => ({}) as Record<string, unknown>);
  if (response.status === 401) throw new ApiError("Your session has ended. Please sign in again.", "auth");
  if (response.status === 429) {
    const wait = Number(response.headers.get("Retry-After") ?? "1");
    throw new ApiError(`Too many requests right now: retry in ${wait} s.`, "rate", Number.isFinite(wait) ? wait : 1);
  }
  if (!response.ok) {
    const message = typeof body.message === "string" ? body.message : `The server answered ${response.status}.`;
    throw new ApiError(message, response.status >= 500 ? "server" : "request");
  }
  const errors = body.errors as { message: string }[] | undefined;
  if (errors?.length) throw new ApiError(errors[0].message, "request");
  return body.data as T;
}

/** A mutation's union answer: the object when it is one of `types`, else its error message. */
export function outcome<T extends { __typename: string }>(result: T | UserError, ...types: string[]): T {
  if (types.includes(result.__typename)) return result as T;
  throw new ApiError((result as UserError).message, "request");
}
