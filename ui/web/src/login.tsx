// The login form: a bearer token, checked with whoami before it is kept.
import { useState } from "preact/hooks";
import { setToken, whoami, type Whoami } from "./api";

export function Login({ message, onLogin }: { message?: string; onLogin: (me: Whoami) => void }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const token = (new FormData(form).get("token") as string | null)?.trim() ?? "";
    if (!token) {
      setError("enter a token");
      return;
    }
    setBusy(true);
    setError("");
    try {
      const me = await whoami(token);
      setToken(token);
      onLogin(me);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="login-page">
      <form id="login" class="card login" onSubmit={submit}>
        <h2>Plexus</h2>
        <p class="muted">Sign in with your API token.</p>
        {message && <div class="notice">{message}</div>}
        <label>
          Token
          <input name="token" type="password" autocomplete="current-password" autofocus required />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Checking…" : "Log in"}
        </button>
        <div class="error-text" data-testid="login-error" role="alert">
          {error}
        </div>
      </form>
    </div>
  );
}
