// The web UI: a single-page app on React Router, talking only to /graphql with the signed-in user's token.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Link, Route, Routes } from "react-router";
import { Layout } from "./components/Layout";
import { ApiKeys } from "./pages/ApiKeys";
import { AuditLog } from "./pages/AuditLog";
import { ComponentPage } from "./pages/Component";
import { Dashboard } from "./pages/Dashboard";
import { LearnerPage } from "./pages/Learner";
import { Learners } from "./pages/Learners";
import { Login } from "./pages/Login";
import { Members } from "./pages/Members";
import { PipelineEditor } from "./pages/PipelineEditor";
import { Pipelines } from "./pages/Pipelines";
import { VariablePage } from "./pages/Variable";
import { authClient } from "./session";
import "./styles.css";

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <Link to="/">Back to the dashboard</Link>
    </>
  );
}

authClient(); // in Supabase mode, starts keeping the token fresh

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <Routes>
        <Route path="/login" element={<Login />} />
        <Route element={<Layout />}>
          <Route index element={<Dashboard />} />
          <Route path="courses/:id" element={<ComponentPage kind="course" />} />
          <Route path="chatbots/:id" element={<ComponentPage kind="chatbot" />} />
          <Route path="variables/:id" element={<VariablePage />} />
          <Route path="learners" element={<Learners />} />
          <Route path="learners/:id" element={<LearnerPage />} />
          <Route path="pipelines" element={<Pipelines />} />
          <Route path="pipelines/:id" element={<PipelineEditor />} />
          <Route path="settings/api-keys" element={<ApiKeys />} />
          <Route path="settings/members" element={<Members />} />
          <Route path="settings/audit-log" element={<AuditLog />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </BrowserRouter>
  </StrictMode>,
);
