import { Link } from "react-router";
import { gql } from "../api";
import { ErrorPanel, Loading } from "../components/ErrorPanel";
import { fmtNumber, fmtTime, lower } from "../components/format";
import { useQuery } from "../components/useQuery";

interface CourseCard {
  id: string;
  name: string;
  externalId: string | null;
  active: boolean;
  stats: { enrolledLearners: number; variables: number; activeVariables: number; valuesRecorded: number; lastActivityAt: string | null };
}
interface ChatbotCard {
  id: string;
  name: string;
  externalId: string | null;
  kind: string;
  active: boolean;
  variables: { id: string }[];
}

const QUERY = `{
  courses(limit: 200) { data { id name externalId active
    stats { enrolledLearners variables activeVariables valuesRecorded lastActivityAt } } }
  chatbots(limit: 200) { data { id name externalId kind active variables { id } } }
}`;

export function Dashboard() {
  const q = useQuery(() => gql<{ courses: { data: CourseCard[] }; chatbots: { data: ChatbotCard[] } }>(QUERY), []);
  if (q.error) return <ErrorPanel error={q.error} retry={q.reload} />;
  if (!q.data) return <Loading />;
  const { courses, chatbots } = q.data;
  return (
    <>
      <h1>Courses</h1>
      {courses.data.length ? (
        <div className="cards">
          {courses.data.map((c) => (
            <article className="card" key={c.id}>
              <h2>
                <Link to={`/courses/${c.id}`}>{c.name}</Link>
              </h2>
              <p className="muted">
                {c.externalId || "no external id"}
                {c.active ? "" : " · inactive"}
              </p>
              <dl className="stats">
                <dt>Learners enrolled</dt>
                <dd>{fmtNumber(c.stats.enrolledLearners)}</dd>
                <dt>Variables (active / all)</dt>
                <dd>
                  {c.stats.activeVariables} / {c.stats.variables}
                </dd>
                <dt>Values recorded</dt>
                <dd>{fmtNumber(c.stats.valuesRecorded)}</dd>
                <dt>Last activity</dt>
                <dd>{fmtTime(c.stats.lastActivityAt)}</dd>
              </dl>
            </article>
          ))}
        </div>
      ) : (
        <p className="muted">No courses yet. Create them through the GraphQL API (createCourse).</p>
      )}
      <h2>Chatbots</h2>
      {chatbots.data.length ? (
        <div className="cards">
          {chatbots.data.map((b) => (
            <article className="card" key={b.id}>
              <h3>
                <Link to={`/chatbots/${b.id}`}>{b.name}</Link>
              </h3>
              <p className="muted">
                {lower(b.kind).replace("_", " ")} · {b.variables.length} variable(s)
                {b.active ? "" : " · inactive"}
              </p>
            </article>
          ))}
        </div>
      ) : (
        <p className="muted">No chatbots yet.</p>
      )}
    </>
  );
}
