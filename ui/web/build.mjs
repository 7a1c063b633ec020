// Builds ui/dist: app.js and app.css (minified, the same bytes for the same
// sources) and index.html.
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// UI_OUT builds elsewhere (make ui-check compares that build with ui/dist).
const dist = process.env.UI_OUT || join(here, "..", "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: { app: join(here, "src", "app.tsx") },
  outdir: dist,
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "eof",
  sourcemap: false,
  metafile: false,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
});

writeFileSync(
  join(dist, "index.html"),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Plexus</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
</head>
<body>
<div id="app"><div style="padding:24px;font:14px system-ui,sans-serif;color:#6b7580">Loading Plexus…</div></div>
<script type="module" src="/app.js"></script>
</body>
</html>
`,
);
