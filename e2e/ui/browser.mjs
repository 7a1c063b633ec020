// Drives Debian's chromium, headless, through the web page of a real
// plexus server (ui_test.go starts it and says what ran on it, in the
// JSON file named by the first argument). Each step prints a line; the
// first failure ends the script with code 1 and says what was wrong.
// Screenshots and the measured timings go to cfg.out (results.json).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const result = { screenshots: [], timings: {} };
const step = (msg) => console.log(msg);

function fail(msg) {
  throw new Error(msg);
}

const executablePath = execFileSync("sh", ["-c", "command -v chromium"]).toString().trim();
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const pageErrors = [];
// Every failed request the page makes, but the expected ones: whoami
// without a token (or with a bad one) on the login page, and the log of a
// run that has none yet (the page asks again).
page.on("response", (r) => {
  const url = new URL(r.url());
  const expected = (r.status() === 401 && url.pathname === "/api/v1/whoami") || (r.status() === 404 && url.pathname.endsWith("/logs"));
  if (r.status() >= 400 && !expected) pageErrors.push(`${r.request().method()} ${url.pathname}${url.search}: ${r.status()}`);
});
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("console", (m) => {
  // A refused call is logged by the browser itself: not the page's error.
  if (m.type() === "error" && !/Failed to load resource/.test(m.text())) pageErrors.push("console: " + m.text());
});

async function shot(name) {
  const file = name + ".png";
  await page.screenshot({ path: join(cfg.out, file) });
  result.screenshots.push(file);
}

// open loads the page afresh at a route (not a same-document hash
// change), keeping the tab's session storage.
async function open(route) {
  await page.goto("about:blank");
  await page.goto(cfg.base + "/" + route);
}

const text = (sel) => page.locator(sel).first().textContent({ timeout: 15000 });

try {
  // 1. A bad token is refused, and nothing is kept.
  await open("");
  await page.waitForSelector("form#login", { timeout: 15000 });
  await page.fill("form#login input[name=token]", "not-a-token");
  await page.press("form#login input[name=token]", "Enter");
  await page.waitForSelector("[data-testid=login-error]", { timeout: 15000 });
  const refused = await text("[data-testid=login-error]");
  if (!/valid bearer token/.test(refused)) fail(`login error says ${JSON.stringify(refused)}`);
  if (await page.evaluate(() => sessionStorage.getItem("plexus.token")) !== null) fail("a refused token was kept");
  if (await page.locator("table[data-testid=runs]").count()) fail("runs shown after a refused login");
  step(`login refused: ${refused.trim()}`);
  await shot("login-refused");

  // 2. The admin token logs in; the runs list shows the finished dag.
  await page.fill("form#login input[name=token]", cfg.tokens.admin);
  await page.press("form#login input[name=token]", "Enter");
  const dagRow = `table[data-testid=runs] tr[data-run="${cfg.runs.dag}"]`;
  await page.waitForSelector(dagRow, { timeout: 15000 });
  const dagStatus = (await text(`${dagRow} [data-testid=status]`)).trim();
  if (dagStatus !== "failed") fail(`the dag's row says ${dagStatus}, want failed`);
  if ((await page.evaluate(() => sessionStorage.getItem("plexus.token"))) !== cfg.tokens.admin) fail("the token is not in session storage");
  // Newest first: the last submitted (the 100,000-node dag) comes before the dag.
  const order = await page.$$eval("table[data-testid=runs] tr[data-run]", (rows) => rows.map((r) => r.dataset.run));
  if (order.indexOf(cfg.runs.big100k) < 0 || order.indexOf(cfg.runs.big100k) > order.indexOf(cfg.runs.dag)) fail(`not newest first: ${order}`);
  step(`runs list: ${order.length} runs, the dag ${dagStatus}`);
  await shot("runs");

  // Filtering by status keeps the failed runs only.
  await open("#/runs?status=failed");
  await page.waitForSelector(dagRow, { timeout: 15000 });
  const statuses = await page.$$eval("table[data-testid=runs] tr[data-run] [data-testid=status]", (c) => c.map((x) => x.textContent.trim()));
  if (statuses.some((s) => s !== "failed")) fail(`status=failed lists ${statuses}`);
  step(`filtered: ${statuses.length} failed`);

  // Paging, three at a time: older, older (the last page), then newer.
  const rowsNow = () => page.$$eval("table[data-testid=runs] tr[data-run]", (rows) => rows.map((r) => r.dataset.run));
  const showing = (want, what) =>
    page
      .waitForFunction((w) => [...document.querySelectorAll("table[data-testid=runs] tr[data-run]")].map((r) => r.dataset.run).join() === w, want.join(), { timeout: 10000 })
      .catch(async () => fail(`${what}: ${await rowsNow()}, want ${want}`));
  const r = cfg.runs;
  await open("#/runs?limit=3");
  await showing([r.big100k, r.big10k, r.approval], "the first page of 3");
  await page.click("[data-testid=next-page]");
  await showing([r.long, r.schedule, r.sweep], "the second page");
  await page.click("[data-testid=next-page]");
  await showing([r.dag], "the last page");
  if (!(await page.locator("[data-testid=next-page]").isDisabled())) fail("a next page after the oldest run");
  await page.click("[data-testid=prev-page]");
  await showing([r.long, r.schedule, r.sweep], "back to the second page");
  step("paged by 3: older, older, newer");

  // A parent's children.
  await open(`#/runs?parent=${cfg.runs.dag}`);
  await page.waitForFunction(() => document.querySelectorAll("table[data-testid=runs] tr[data-run]").length === 4, null, { timeout: 10000 }).catch(async () => fail(`the dag's children: ${await rowsNow()}`));
  step("the dag's 4 children listed");

  // 3. The dag page: every node's status as the engine says.
  await open(`#/dag/${cfg.runs.dag}`);
  await page.waitForSelector('[data-testid=dag][data-rendered="true"]', { timeout: 15000 });
  const drawn = await page.evaluate(() => window.__plexusDag);
  for (const [name, status] of Object.entries(cfg.dagNodes)) {
    if (drawn.statuses[name] !== status) fail(`node ${name} drawn ${drawn.statuses[name]}, want ${status}`);
    const el = page.locator(`[data-testid=dag] [data-node="${name}"]`);
    if ((await el.getAttribute("data-status")) !== status) fail(`node ${name}'s element says ${await el.getAttribute("data-status")}`);
  }
  const counts = await text('[data-testid=dag-counts] [data-count="succeeded"]');
  if (!/2/.test(counts)) fail(`succeeded count says ${counts}`);
  step(`dag: ${drawn.mode}, ${JSON.stringify(drawn.statuses)}`);
  await shot("dag");
  // A node's click opens its run.
  await page.locator('[data-testid=dag] [data-node="prepare"]').click();
  await page.waitForFunction((uuid) => location.hash.includes(uuid), cfg.runs.prepare, { timeout: 10000 });
  await page.waitForFunction(() => /said prepared/.test(document.querySelector("[data-testid=logs]")?.textContent ?? ""), null, { timeout: 15000 });
  step("node click: its run, with its log");
  await shot("run");

  // 4. A running operation's log, followed live.
  await open(`#/runs/${cfg.runs.slow}`);
  await page.waitForFunction(() => /sleeping/.test(document.querySelector("[data-testid=logs]")?.textContent ?? ""), null, { timeout: 15000 });
  if ((await text("[data-testid=run-status]")).trim() !== "running") fail("the log came, but the run is not running: not followed live");
  if (await page.locator("button[data-action=approve]").count()) fail("approve offered for a run that does not wait for it");
  step("a running operation's log, live");

  // Stopping a running dag from its page, while another tab follows its
  // graph: the node turns stopped there without a reload.
  const watcher = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await watcher.addInitScript((token) => sessionStorage.setItem("plexus.token", token), cfg.tokens.admin);
  await watcher.goto(`${cfg.base}/#/dag/${cfg.runs.long}`);
  await watcher.waitForSelector('[data-testid=dag][data-rendered="true"]', { timeout: 15000 });
  const before = await watcher.evaluate(() => window.__plexusDag.statuses.slow);
  if (before !== "running") fail(`the long dag's slow node drawn ${before}`);
  await open(`#/runs/${cfg.runs.long}`);
  await page.waitForFunction(() => document.querySelector("[data-testid=run-status]")?.textContent.trim() === "running", null, { timeout: 15000 });
  await page.click("button[data-action=stop]");
  await page.waitForFunction(() => ["stopping", "stopped"].includes(document.querySelector("[data-testid=run-status]")?.textContent.trim()), null, { timeout: 20000 });
  await page.waitForFunction(() => document.querySelector("[data-testid=run-status]")?.textContent.trim() === "stopped", null, { timeout: 30000 });
  step("stopped from the page");
  await shot("run-stopped");
  await watcher.waitForFunction(() => window.__plexusDag.statuses.slow === "stopped", null, { timeout: 15000 });
  const after = await watcher.getAttribute('[data-testid=dag] [data-node="slow"]', "data-status");
  if (after !== "stopped") fail(`the followed graph's slow node says ${after}`);
  step("the followed graph turned the node stopped");
  await watcher.close();

  // 5. The sweep: its trials sorted, the best marked, its points plotted.
  await open(`#/sweep/${cfg.runs.sweep}`);
  await page.waitForSelector("canvas[data-testid=plot-time][data-points]", { timeout: 15000 });
  for (const plot of ["plot-lr", "plot-batch", "plot-time"]) {
    const n = Number(await page.locator(`canvas[data-testid=${plot}]`).getAttribute("data-points", { timeout: 10000 }));
    if (n !== cfg.trials) fail(`${plot} plots ${n} points, want ${cfg.trials}`);
  }
  const rows = await page.locator("table[data-testid=trials] tr[data-run]").count();
  const best = await page.locator('table[data-testid=trials] tr[data-best="true"]').count();
  if (rows !== cfg.trials || best !== 1) fail(`trials table: ${rows} rows, ${best} best`);
  const first = await page.locator("table[data-testid=trials] tr[data-run]").first().getAttribute("data-best");
  if (first !== "true") fail("the best trial is not first");
  step(`sweep: ${rows} trials, ${cfg.trials} points in each plot`);
  await shot("sweep");

  // 6. The schedule: its fires so far and the next ones.
  await open(`#/schedule/${cfg.runs.schedule}`);
  await page.waitForSelector("ul[data-testid=coming] li", { timeout: 15000 });
  await page.waitForSelector("table[data-testid=fires] tr a", { timeout: 15000 });
  const coming = await page.locator("ul[data-testid=coming] li").count();
  if (coming < 1 || coming > 5) fail(`${coming} coming fires listed`);
  step(`schedule: ${coming} coming fires`);
  await shot("schedule");
  // Stopped and resumed from its page.
  const scheduleStatus = (want) =>
    page.waitForFunction((w) => document.querySelector("[data-testid=run-status]")?.textContent.trim() === w, want, { timeout: 20000 }).catch(() => fail(`the schedule never showed ${want}`));
  await page.click("button[data-action=stop]");
  await scheduleStatus("stopped");
  await page.click("button[data-action=resume]");
  await scheduleStatus("on_schedule");
  step("schedule stopped and resumed from its page");

  // Restarting the finished dag: the page goes to the new run.
  await open(`#/runs/${cfg.runs.dag}`);
  await page.waitForSelector("button[data-action=restart]", { timeout: 15000 });
  await page.click("button[data-action=restart]");
  await page.waitForFunction((old) => /^#\/runs\/[0-9a-f]{32}$/.test(location.hash) && !location.hash.includes(old), cfg.runs.dag, { timeout: 15000 }).catch(() => fail(`after restart the page is at ${page.url()}`));
  step(`restarted: ${page.url().split("#")[1]}`);

  // Approving a run that waits for it: it runs.
  await open(`#/runs/${cfg.runs.approval}`);
  await page.waitForSelector("button[data-action=approve]", { timeout: 15000 });
  await page.click("button[data-action=approve]");
  await page.waitForFunction(() => document.querySelector("[data-testid=run-status]")?.textContent.trim() === "succeeded", null, { timeout: 30000 }).catch(() => fail("the approved run did not succeed"));
  await page.waitForFunction(() => /approved and ran/.test(document.querySelector("[data-testid=logs]")?.textContent ?? ""), null, { timeout: 15000 }).catch(() => fail("the approved run's log is not shown"));
  step("approved from its page: it ran");

  // 7. A read token sees the page but may not stop.
  await page.evaluate(() => sessionStorage.clear());
  await open("");
  await page.waitForSelector("form#login", { timeout: 15000 });
  await page.fill("form#login input[name=token]", cfg.tokens.read);
  await page.press("form#login input[name=token]", "Enter");
  await page.waitForSelector(dagRow, { timeout: 15000 });
  await open(`#/runs/${cfg.runs.schedule}`);
  await page.waitForSelector("button[data-action=stop]", { timeout: 15000 });
  if (!(await page.locator("button[data-action=stop]").isDisabled())) fail("a read token may press stop");
  step("read token: stop is disabled");
  await page.evaluate(() => sessionStorage.clear());
  await open("");
  await page.waitForSelector("form#login", { timeout: 15000 });
  await page.fill("form#login input[name=token]", cfg.tokens.admin);
  await page.press("form#login input[name=token]", "Enter");
  await page.waitForSelector(dagRow, { timeout: 15000 });

  // 8. Speed: the 10,000-node dag drawn, the 100,000-node dag's summary
  // shown, each load from a blank page (the first one is the server's
  // first look at that dag).
  const measure = async (key, route, sel, mark) => {
    result.timings[key] = [];
    for (let i = 0; i < cfg.repeat; i++) {
      await open(route);
      await page.waitForSelector(`${sel}[data-rendered="true"]`, { timeout: 60000 });
      const ms = await page.evaluate((m) => performance.getEntriesByName(m)[0]?.startTime ?? -1, mark);
      if (ms < 0) fail(`no ${mark} mark`);
      result.timings[key].push(Math.round(ms));
    }
    step(`${key}: ${result.timings[key].join(", ")} ms`);
  };
  await measure("dag10k", `#/dag/${cfg.runs.big10k}`, "[data-testid=dag]", "plexus:dag-rendered");
  const big = await page.evaluate(() => window.__plexusDag);
  if (big.nodes !== 10000) fail(`the 10k dag drew ${big.nodes} nodes`);
  await shot("dag10k");
  await measure("summary100k", `#/dag/${cfg.runs.big100k}`, "[data-testid=dag-summary]", "plexus:summary-rendered");
  const total = await text("[data-testid=dag-summary]");
  if (!/100[,.\s ]?000/.test(total)) fail("the summary does not say 100,000");
  await shot("summary100k");

  if (pageErrors.length) fail("the page reported errors: " + pageErrors.join("; "));
} catch (e) {
  console.log("FAIL: " + e.message);
  console.log("at " + page.url());
  try {
    await shot("failure");
  } catch {}
  writeFileSync(join(cfg.out, "results.json"), JSON.stringify(result));
  await browser.close();
  process.exit(1);
}
writeFileSync(join(cfg.out, "results.json"), JSON.stringify(result));
await browser.close();
