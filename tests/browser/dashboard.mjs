// Drives Debian's chromium through the supervisor dashboard for test_dashboard.py, in phases:
//   node dashboard.mjs BASE_URL OUT_DIR
// 0. without credentials (and with wrong ones) every path but /healthz answers 401: {"step":"locked",...};
// 1. log in (basic auth: DASHBOARD_USER / DASHBOARD_PASSWORD from the environment), load the page, wait for the data of the first pipeline run, screenshot, print {"step":"loaded",...};
// 2. read "go" on stdin (the test has produced new events), wait for them to appear without a reload,
//    screenshot, print {"step":"updated",...};
// 3. read "more" (new turns of a live contact): its timeline moves, print {"step":"timeline",...};
// 4. open a contact's drill-down, correct a turn's label in the page, print {"step":"corrected",...};
// 5. filter by agent, reload the shared URL, switch the trends to the last day, print {"step":"filtered",...}.
// Screenshots of every view go to OUT_DIR. Any failure prints {"step":"error",...} and exits 1.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const [base, outDir] = process.argv.slice(2);
const say = (step, data = {}) => console.log(JSON.stringify({ step, ...data }));
const lines = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));
const TIMEOUT = 20000;

// 0. The door: plain requests from outside the browser, no credentials, then wrong ones.
const locked = {};
const wrong = "Basic " + Buffer.from(`${process.env.DASHBOARD_USER}:wrong`).toString("base64");
for (const [path, method] of [["/", "GET"], ["/static/app.js", "GET"], ["/api/contacts/active", "GET"],
                              ["/api/events", "GET"], ["/api/trends", "GET"], ["/api/corrections", "POST"],
                              ["/healthz", "GET"]]) {
  const bare = await fetch(base + path, { method, body: method === "POST" ? "{}" : undefined });
  const bad = await fetch(base + path, { method, headers: { Authorization: wrong } });
  locked[path] = [bare.status, bad.status];
}
say("locked", { locked });

const profile = mkdtempSync(join(tmpdir(), "cxpulse-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 1100 },
  httpCredentials: { username: process.env.DASHBOARD_USER, password: process.env.DASHBOARD_PASSWORD },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const outside = [];
const errors = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("request", (request) => { if (!request.url().startsWith(base)) outside.push(request.url()); });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
  const text = (selector) => page.locator(selector).first().innerText({ timeout: TIMEOUT });
  const visible = (selector) => page.locator(selector).first().waitFor({ timeout: TIMEOUT });

  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelector("#status").textContent === "live", null,
                             { timeout: TIMEOUT });
  await visible('#contacts tr[data-contact="c-live"] .alert.critical');
  await visible('#escalations li[data-contact="c-angry"]');
  await visible('#agents tr[data-agent="agent-b"]');
  await visible('#accounts tr[data-account="acct-c-angry"]');
  await visible('#journey td[data-cell="billing|voice"]');
  await page.waitForFunction(() => document.querySelectorAll("#quality tbody tr").length >= 2, null,
                             { timeout: TIMEOUT });
  const loaded = {
    live: await text('#contacts tr[data-contact="c-live"]'),
    escalation: await text('#escalations li[data-contact="c-angry"]'),
    agent: await text('#agents tr[data-agent="agent-b"]'),
    account: await text('#accounts tr[data-account="acct-c-angry"]'),
    journey: await text('#journey td[data-cell="billing|voice"]'),
    reviewRows: await page.locator("#quality tr.review").count(),
    // Bytes over the wire for the first load (HTML, script, style, trends; the open event stream not counted).
    firstLoad: await page.evaluate(() => performance.getEntriesByType("navigation")
      .concat(performance.getEntriesByType("resource"))
      .map((e) => ({ name: e.name, bytes: e.transferSize, body: e.encodedBodySize }))),
  };
  await page.screenshot({ path: join(outDir, "1-loaded.png"), fullPage: true });
  await page.evaluate(() => { window.cxpulseNoReload = true; });  // gone if the page reloads
  say("loaded", loaded);

  if ((await nextLine()) !== "go") throw new Error("expected go on stdin");
  await visible('#contacts tr[data-contact="c-new"] .alert.critical');
  await visible('#escalations li[data-contact="c-new"]');
  await visible('#agents tr[data-agent="agent-c"]');
  await visible('#accounts tr[data-account="acct-c-new"]');
  await page.locator('#contacts tr[data-contact="c-live"]').waitFor({ state: "detached", timeout: TIMEOUT });
  const updated = {
    noReload: await page.evaluate(() => window.cxpulseNoReload === true),
    updates: Number(await page.evaluate(() => document.body.dataset.updates)),
    newContact: await text('#contacts tr[data-contact="c-new"]'),
    firstEscalation: await text("#escalations li"),
    firstAccount: await text("#accounts tbody tr"),
    agents: await page.locator("#agents tbody tr").count(),
  };
  await page.screenshot({ path: join(outDir, "2-updated.png"), fullPage: true });
  say("updated", updated);

  // 3. The live timeline of c-new moves when its next turns arrive.
  const spark = '#contacts tr[data-contact="c-new"] svg.spark';
  const before = Number(await page.locator(spark).getAttribute("data-last-turn"));
  const pointsBefore = Number(await page.locator(spark).getAttribute("data-points"));
  if ((await nextLine()) !== "more") throw new Error("expected more on stdin");
  await page.waitForFunction(([selector, turn]) => Number(document.querySelector(selector)?.dataset.lastTurn) > turn,
                             [spark, before], { timeout: TIMEOUT });
  await visible(`${spark} .m-alert`);
  await visible(`${spark} .m-esc`);
  const timeline = { before, after: Number(await page.locator(spark).getAttribute("data-last-turn")), pointsBefore,
                     pointsAfter: Number(await page.locator(spark).getAttribute("data-points")),
                     noReload: await page.evaluate(() => window.cxpulseNoReload === true) };
  await page.locator("#contacts").screenshot({ path: join(outDir, "3-timelines.png") });
  say("timeline", timeline);

  // 4. Drill-down of the ended, escalated contact (from the escalation feed), then a correction in the page.
  await page.locator('#escalations li[data-contact="c-angry"]').first().click();
  await page.waitForFunction(() => document.querySelectorAll("#transcript li.turn").length >= 6, null,
                             { timeout: TIMEOUT });
  await visible('#transcript li[data-turn="2"] .guidance');
  const turn3 = page.locator('#transcript li[data-turn="3"]');
  const drilled = {
    url: page.url(), status: await page.locator("#drill").getAttribute("data-status"),
    turns: await page.locator("#transcript li.turn").count(), turn3: await turn3.innerText(),
    guidance: await text('#transcript li[data-turn="2"] .guidance'), quality: await text("#drill-quality"),
    churn: await text("#drill-churn"),
  };
  await page.locator("#drill").screenshot({ path: join(outDir, "4-drilldown.png") });
  await turn3.locator("select.correct-label").selectOption("neutral");
  await turn3.locator("button.correct").click();
  await visible('#transcript li[data-turn="3"] .correct-result.ok');
  await visible('#transcript li[data-turn="3"] .corrected');
  drilled.saved = await text('#transcript li[data-turn="3"] .correct-result');
  drilled.corrected = await text('#transcript li[data-turn="3"] .corrected');
  await page.locator('#transcript li[data-turn="3"]').screenshot({ path: join(outDir, "5-corrected.png") });
  say("corrected", drilled);

  // 5. Filters: by agent, kept in the URL; the shared URL opens filtered; trends over the last day.
  await page.locator("#drill-close").click();
  await page.locator("#filter-agent").selectOption("agent-c");
  await page.waitForFunction(() => location.search.includes("agent=agent-c"), null, { timeout: TIMEOUT });
  const shared = page.url();
  await page.goto(shared, { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelector("#status").textContent === "live", null,
                             { timeout: TIMEOUT });
  await visible('#agents tr[data-agent="agent-c"]');
  await page.locator("#trend-window").selectOption("day");
  await page.waitForFunction(() => location.search.includes("window=day"), null, { timeout: TIMEOUT });
  await visible('[data-chart="sentiment-queue"] g.series[data-series="billing"]');
  await page.locator('[data-chart="churn-bands"] rect[data-band="critical"]').waitFor({ state: "attached",
                                                                                     timeout: TIMEOUT });
  const filtered = {
    url: shared, select: await page.locator("#filter-agent").inputValue(),
    agents: await page.locator("#agents tbody tr").allInnerTexts(),
    liveRows: await page.locator("#contacts tbody tr").count(),
    escalations: await page.locator("#escalations li").count(),
    criticalAccounts: Number(await page.locator('[data-chart="churn-bands"] rect[data-band="critical"]')
      .getAttribute("data-count")),
    trendRange: await text("#trends-range"),
  };
  await page.screenshot({ path: join(outDir, "6-filtered.png"), fullPage: true });
  await page.locator("#filter-clear").click();
  await visible('#contacts tr[data-contact="c-new"]');
  await page.waitForFunction(() => Number(document.body.dataset.trendsLoaded) >= 1, null, { timeout: TIMEOUT });
  await page.locator("#trends").screenshot({ path: join(outDir, "7-trends.png") });
  say("filtered", { ...filtered, outside, errors });
} catch (error) {
  say("error", { message: String(error), outside, errors });
  process.exitCode = 1;
} finally {
  lines.close();
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
