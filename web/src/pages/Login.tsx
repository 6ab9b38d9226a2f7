// Sign-in: one-time links in embedded mode, Supabase's password sign-in when configured.
import { useState, type FormEvent } from "react";
import { useLocation, useNavigate } from "react-router";
import { authClient, config, setToken } from "../session";

export function Login() {
  const location = useLocation();
  const navigate = useNavigate();
  const message = (location.state as { message?: string } | null)?.message;
  const [status, setStatus] = useState("");

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const client = authClient();
    if (!client) return;
    const { data, error } = await client.auth.signInWithPassword({
      email: String(form.get("email")),
      password: String(form.get("password")),
    });
    if (error || !data.session) {
      setStatus(error?.message ?? "Sign-in failed.");
      return;
    }
    setToken(data.session.access_token);
    navigate("/");
  };

  return (
    <main id="main" tabIndex={-1}>
      <section className="login">
        <h1>Sign in to CoursePipeline</h1>
        {message ? (
          <p className="error" role="alert">
            {message}
          </p>
        ) : null}
        {config.mode === "supabase" ? (
          <>
            <form onSubmit={submit}>
              <div className="field">
                <label htmlFor="email">Email</label>
                <input id="email" name="email" type="email" required autoComplete="email" />
              </div>
              <div className="field">
                <label htmlFor="password">Password</label>
                <input id="password" name="password" type="password" required autoComplete="current-password" />
              </div>
              <p>
                <button type="submit">Sign in</button>
              </p>
            </form>
            <p className="error" role="alert">
              {status}
            </p>
          </>
        ) : (
          <>
            <p>This server runs in embedded mode. Ask for a one-time sign-in link on the server:</p>
            <pre>
              <code>coursepipeline login-link --email you@example.com</code>
            </pre>
            <p className="muted">Open the link it prints in this browser within 15 minutes. `make run` prints one too.</p>
          </>
        )}
      </section>
    </main>
  );
}
