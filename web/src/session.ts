// The signed-in user's token and chosen organization, kept in the browser's storage; Supabase keeps the token fresh.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";

export interface UiConfig {
  mode: "local" | "supabase";
  supabaseUrl: string | null;
  supabaseAnonKey: string | null;
}

declare global {
  interface Window {
    COURSEPIPELINE?: UiConfig;
  }
}

export const config: UiConfig = window.COURSEPIPELINE ?? { mode: "local", supabaseUrl: null, supabaseAnonKey: null };

export const token = (): string | null => localStorage.getItem("cp_token");
export const setToken = (value: string): void => localStorage.setItem("cp_token", value);
export const currentOrg = (): string | null => localStorage.getItem("cp_org");
export const setCurrentOrg = (id: string): void => localStorage.setItem("cp_org", id);

let client: SupabaseClient | null = null;

export function authClient(): SupabaseClient | null {
  if (config.mode !== "supabase" || !config.supabaseUrl || !config.supabaseAnonKey) return null;
  if (!client) {
    client = createClient(config.supabaseUrl, config.supabaseAnonKey);
    client.auth.onAuthStateChange((_event, session) => {
      if (session) setToken(session.access_token);
    });
  }
  return client;
}

export function clearSession(): void {
  localStorage.removeItem("cp_token");
  localStorage.removeItem("cp_org");
  void authClient()?.auth.signOut();
}
