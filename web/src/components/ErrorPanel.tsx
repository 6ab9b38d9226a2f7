// What a failed page shows inside the layout: what happened, and a retry (after the wait a 429 asked for).
import { useEffect, useState } from "react";
import { ApiError } from "../api";

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : "Something went wrong.";
}

export function ErrorPanel({ error, retry, title = "This page could not be loaded" }: {
  error: unknown;
  retry: () => void;
  title?: string;
}) {
  const wait = error instanceof ApiError && error.kind === "rate" ? (error.retryAfter ?? 1) : 0;
  const [left, setLeft] = useState(wait);
  useEffect(() => {
    setLeft(wait);
    if (!wait) return;
    const timer = setInterval(() => setLeft((s) => Math.max(0, s - 1)), 1000);
    return () => clearInterval(timer);
  }, [error, wait]);
  return (
    <section className="error-panel" aria-labelledby="error-title">
      <h1 id="error-title">{title}</h1>
      <p role="alert">{errorMessage(error)}</p>
      <button type="button" onClick={retry} disabled={left > 0}>
        {left > 0 ? `Retry in ${left} s` : "Retry"}
      </button>
    </section>
  );
}

export function Loading() {
  return (
    <p className="muted" role="status">
      Loading…
    </p>
  );
}
