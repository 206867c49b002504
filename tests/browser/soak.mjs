// A dashboard page left open under live traffic, for the insights bench (cxpulse_insights/bench.py):
//   node soak.mjs BASE_URL SECONDS INTERVAL_S     (DASHBOARD_USER / DASHBOARD_PASSWORD in the environment)
// Every INTERVAL_S it forces a garbage collection and prints {"t": s, "heap_mb", "nodes", "listeners",
// "updates"} (Chromium's Performance.getMetrics over CDP); at the end {"done": true, "errors": [...]}.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, seconds, interval] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const profile = mkdtempSync(join(tmpdir(), "cxpulse-soak-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", headless: true,
  viewport: { width: 1400, height: 1100 },
  httpCredentials: { username: process.env.DASHBOARD_USER, password: process.env.DASHBOARD_PASSWORD },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
const errors = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelector("#status").textContent === "live", null, { timeout: 30000 });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const started = Date.now();
  while ((Date.now() - started) / 1000 < seconds) {
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
    await cdp.send("HeapProfiler.collectGarbage");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    console.log(JSON.stringify({ t: Math.round((Date.now() - started) / 1000), heap_mb: +(m.JSHeapUsedSize / 1048576).toFixed(2),
      nodes: m.Nodes, listeners: m.JSEventListeners,
      updates: Number(await page.evaluate(() => document.body.dataset.updates || 0)) }));
  }
} catch (error) {
  errors.push(String(error));
} finally {
  console.log(JSON.stringify({ done: true, errors }));
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
