// Drives Debian's chromium through the supervisor dashboard for test_dashboard.py, in two phases:
//   node dashboard.mjs BASE_URL OUT_DIR
// 1. load the page, wait for the data of the first pipeline run, screenshot, print {"step":"loaded",...};
// 2. read "go" on stdin (the test has produced new events), wait for them to appear without a reload,
//    screenshot, print {"step":"updated",...}. Any failure prints {"step":"error",...} and exits 1.
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

const profile = mkdtempSync(join(tmpdir(), "cxpulse-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 1100 },
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
  say("updated", { ...updated, outside, errors });
} catch (error) {
  say("error", { message: String(error), outside, errors });
  process.exitCode = 1;
} finally {
  lines.close();
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
