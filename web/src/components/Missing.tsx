import { Link } from "react-router";

/** What a page shows for an id that is not in the organization (or not at all). */
export function Missing({ what, back, backLabel }: { what: string; back: string; backLabel: string }) {
  return (
    <>
      <h1>{what} not found</h1>
      <Link to={back}>{backLabel}</Link>
    </>
  );
}
