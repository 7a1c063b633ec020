// The application: who is logged in, the top bar and the page of the route.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getToken, setToken, setUnauthorizedHandler, whoami, type Whoami } from "./api";
import { Loading, ErrorText } from "./components";
import { Login } from "./login";
import { useRoute } from "./routes";
import { MeContext } from "./session";
import { RunsPage } from "./pages/runs";
import { RunPage } from "./pages/run";
import { DagPage } from "./pages/dag";
import { SweepPage } from "./pages/sweep";
import { SchedulePage } from "./pages/schedule";
import "./style.css";

type Auth = { state: "checking" } | { state: "login"; message?: string } | { state: "in"; me: Whoami } | { state: "error"; error: string };

function App() {
  const [auth, setAuth] = useState<Auth>({ state: "checking" });
  const route = useRoute();

  const check = async () => {
    const token = getToken();
    try {
      setAuth({ state: "in", me: await whoami(token) });
    } catch (e) {
      const err = e as { status?: number; message: string };
      if (err.status === 401) {
        if (token) setToken(null);
        setAuth({ state: "login", message: token ? `Your token was refused: ${err.message}` : undefined });
      } else setAuth({ state: "error", error: err.message });
    }
  };

  useEffect(() => {
    setUnauthorizedHandler((msg) => {
      setToken(null);
      setAuth({ state: "login", message: `Please log in again: ${msg}` });
    });
    void check();
  }, []);

  if (auth.state === "checking") return <Shell><Loading /></Shell>;
  if (auth.state === "error")
    return (
      <Shell>
        <ErrorText error={auth.error} />
        <button type="button" onClick={() => { setAuth({ state: "checking" }); void check(); }}>Retry</button>
      </Shell>
    );
  if (auth.state === "login")
    return (
      <Shell>
        <Login message={auth.message} onLogin={(me) => { setAuth({ state: "in", me }); if (!location.hash || location.hash === "#") location.hash = "#/runs"; }} />
      </Shell>
    );

  const me = auth.me;
  const logout = () => {
    setToken(null);
    if (me.open) void check();
    else setAuth({ state: "login", message: "You have logged out." });
  };
  let page;
  switch (route.page) {
    case "runs": page = <RunsPage query={route.query} />; break;
    case "run": page = <RunPage key={route.id} uuid={route.id!} />; break;
    case "dag": page = <DagPage key={route.id} uuid={route.id!} />; break;
    case "sweep": page = <SweepPage key={route.id} uuid={route.id!} />; break;
    case "schedule": page = <SchedulePage key={route.id} uuid={route.id!} />; break;
    default: page = <ErrorText error={`No page at ${location.hash}`} />;
  }
  return (
    <MeContext.Provider value={me}>
      <Shell me={me} onLogout={logout} active={route.page}>{page}</Shell>
    </MeContext.Provider>
  );
}

function Shell({ me, onLogout, active, children }: { me?: Whoami; onLogout?: () => void; active?: string; children: preact.ComponentChildren }) {
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/runs">Plexus</a>
        <nav>
          <a href="#/runs" class={active === "runs" ? "active" : ""}>Runs</a>
        </nav>
        <span class="grow" />
        {me && (
          <span class="who" data-testid="whoami">
            <span data-testid="user">{me.open ? "open server" : me.user || "?"}</span>
            <span class="role" data-testid="role">{me.role}</span>
            {me.projects && me.projects.length > 0 && <span class="muted small">projects: {me.projects.join(", ")}</span>}
          </span>
        )}
        {me && onLogout && (
          <button type="button" class="logout" data-testid="logout" onClick={onLogout}>Log out</button>
        )}
      </header>
      <main>{children}</main>
    </>
  );
}

const root = document.getElementById("app")!;
root.textContent = ""; // the static "Loading" shown until the script runs
render(<App />, root);
