// Browser tests of the console: the real pgmotion binary (`pgmotion demo`,
// with its throwaway PostgreSQL, embedded broker and workload), Debian's
// Chromium driven by playwright-core, and kcat for a large topic.
//
// Run with `npm test` in web/console (make test does when Node is there;
// .ci/run always). PGMOTION_BIN names the binary; otherwise it is built
// with `go build`. Screenshots of each page go to test/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../../..");
const shots = join(here, "screenshots");
mkdirSync(shots, { recursive: true });

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const procs = [];
const tmp = mkdtempSync(join(tmpdir(), "pgmotion-console-test-"));
let bin, demo, browser;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Starts a process and resolves once its output matches ready. */
function start(args, ready, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { cwd: tmp, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    procs.push(p);
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not become ready in 120 s:\n${out}`)), 120_000);
    const on = (b) => {
      out += b.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ p, out: () => out, m });
      }
    };
    p.stdout.on("data", on);
    p.stderr.on("data", on);
    p.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

async function waitFor(fn, what, ms = 30_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ": " + last.message : ""}`);
}

before(async () => {
  bin = process.env.PGMOTION_BIN;
  if (!bin) {
    bin = join(tmp, "pgmotion");
    execFileSync("go", ["build", "-o", bin, "./cmd/pgmotion"], { cwd: repo, stdio: "inherit" });
  }
  const broker = await freePort();
  const rest = await freePort();
  const d = await start(["demo", "--listen", `127.0.0.1:${broker}`, "--rest", `127.0.0.1:${rest}`, "--rate", "20"], /PostgreSQL: postgres:\/\/(\w+)@([\d.]+):(\d+)\/(\w+)[\s\S]*Press Ctrl-C/);
  demo = { broker: `127.0.0.1:${broker}`, url: `http://127.0.0.1:${rest}`, pg: { user: d.m[1], host: d.m[2], port: d.m[3], db: d.m[4] } };
  // The connector is running and its topics have events.
  await waitFor(async () => {
    const r = await fetch(`${demo.url}/connectors/demo-connector/status`);
    const s = await r.json();
    return s.connector?.state === "RUNNING" && s.tasks?.[0]?.state === "RUNNING";
  }, "demo-connector RUNNING", 60_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.on("exit", r)) : null)));
  rmSync(tmp, { recursive: true, force: true });
});

async function page(context) {
  const ctx = context ?? (await browser.newContext({ viewport: { width: 1400, height: 900 } }));
  const p = await ctx.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(e));
  p.errors = errors;
  return p;
}

test("the demo: topics, decoded orders, the update diff, the connector and its slot", async () => {
  const p = await page();
  await p.goto(`${demo.url}/ui/`);
  // The connector, RUNNING.
  const row = p.locator('tr[data-connector="demo-connector"]');
  await row.waitFor();
  await assert.doesNotReject(row.locator(".state.running").first().waitFor({ timeout: 15_000 }));
  await p.screenshot({ path: join(shots, "connectors.png"), fullPage: true });

  // The topics.
  await p.goto(`${demo.url}/ui/#/topics`);
  for (const t of ["demo.public.customers", "demo.public.products", "demo.public.orders", "outbox.event.order"]) {
    await p.locator(`tr[data-topic="${t}"]`).waitFor();
  }
  await p.screenshot({ path: join(shots, "topics.png"), fullPage: true });

  // The orders topic's newest events, decoded; an update's before/after.
  await p.goto(`${demo.url}/ui/#/topics/demo.public.orders`);
  await p.locator('[data-testid="message"]').first().waitFor();
  const update = p.locator('[data-testid="message"]', { has: p.locator(".op-u") }).first();
  await waitFor(async () => {
    if ((await update.count()) > 0) return true;
    await p.locator('[data-testid="load"]').click();
    return false;
  }, "an update of orders among the newest events");
  await update.locator(".msg-head").click();
  const diff = update.locator('[data-testid="diff"]');
  await diff.waitFor();
  // numeric(12,2): a number with two decimals, not Decimal's base64 bytes.
  const total = await diff.locator('tr[data-column="total"] td').nth(1).innerText();
  assert.match(total, /^-?\d+\.\d{2}$/, `total shown as ${total}`);
  // timestamptz (ZonedTimestamp): a date and time.
  const updated = await diff.locator('tr[data-column="updated_at"] td').nth(1).innerText();
  assert.match(updated, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, `updated_at shown as ${updated}`);
  // date: a date.
  const placed = await diff.locator('tr[data-column="placed_on"] td').nth(1).innerText();
  assert.match(placed, /^\d{4}-\d\d-\d\d$/);
  // The update changed status: highlighted; the id did not.
  assert.equal(await diff.locator('tr[data-column="status"]').getAttribute("data-changed"), "true");
  assert.equal(await diff.locator('tr[data-column="id"]').getAttribute("data-changed"), "false");
  const before = await diff.locator('tr[data-column="status"] td').nth(0).innerText();
  const afterStatus = await diff.locator('tr[data-column="status"] td').nth(1).innerText();
  assert.notEqual(before, afterStatus);
  await p.screenshot({ path: join(shots, "orders.png"), fullPage: false });

  // Consumer groups page renders.
  await p.goto(`${demo.url}/ui/#/groups`);
  await p.locator('[data-testid="groups"]').waitFor();
  await p.screenshot({ path: join(shots, "groups.png"), fullPage: true });

  // The connector's page: the slot's lag, sampled from the worker's metrics.
  await p.goto(`${demo.url}/ui/#/connectors/demo-connector`);
  await p.locator('[data-testid="slot-lag-value"]').waitFor();
  const lag = await waitFor(async () => {
    const t = await p.locator('[data-testid="slot-lag-value"]').innerText();
    return /\d+(\.\d)? (B|KiB|MiB|GiB)/.test(t) ? t : null;
  }, "the slot lag figure", 40_000);
  assert.match(lag, /\d/);
  await p.locator('[data-testid="slot-active"]').waitFor({ timeout: 20_000 });
  await p.screenshot({ path: join(shots, "connector.png"), fullPage: true });

  assert.deepEqual(p.errors, []);
});

test("create a connector from the form, see its first change live, pause, resume, delete", async () => {
  const p = await page();
  await p.goto(`${demo.url}/ui/#/new-connector`);
  await p.locator('input[name="database.hostname"]').waitFor();
  await p.fill('input[name="name"]', "ui-made");
  const set = async (name, value) => {
    const f = p.locator(`input[name="${name}"]`);
    if ((await f.count()) === 0) await p.locator("label.check input").first().check(); // show every option
    await p.fill(`input[name="${name}"]`, value);
  };
  await set("database.hostname", demo.pg.host);
  await set("database.port", demo.pg.port);
  await set("database.user", demo.pg.user);
  await set("database.dbname", demo.pg.db);
  await set("topic.prefix", "uimade");
  await set("slot.name", "ui_made");
  await set("table.include.list", "public.orders");
  await p.screenshot({ path: join(shots, "new-connector.png"), fullPage: true });
  await p.locator('[data-testid="create-connector"]').click();
  await p.waitForURL(/#\/connectors\/ui-made$/);
  await waitFor(async () => {
    const s = await (await fetch(`${demo.url}/connectors/ui-made/status`)).json();
    return s.tasks?.[0]?.state === "RUNNING";
  }, "ui-made RUNNING", 60_000);

  // Its topic, live: the workload's next change to orders arrives.
  await waitFor(async () => (await fetch(`${demo.url}/ui/api/topics/uimade.public.orders`)).ok, "the topic uimade.public.orders");
  await p.goto(`${demo.url}/ui/#/topics/uimade.public.orders`);
  await p.locator('[data-testid="message"]').first().waitFor();
  const newest = Number(await p.locator('[data-testid="message"]').first().getAttribute("data-offset"));
  await p.locator('[data-testid="tail"]').click();
  await p.locator('[data-testid="stop-tail"]').waitFor();
  await waitFor(async () => {
    const o = Number(await p.locator('[data-testid="message"]').first().getAttribute("data-offset"));
    return o > newest;
  }, "a live change in the tail", 30_000);
  const op = await p.locator('[data-testid="message"]').first().locator(".op").innerText();
  assert.ok(["create", "update", "delete"].includes(op), `live event op ${op}`);
  await p.locator('[data-testid="stop-tail"]').click();
  await p.locator('[data-testid="tail"]').waitFor();
  await p.screenshot({ path: join(shots, "live.png") });

  // Pause, resume, delete, from the list.
  await p.goto(`${demo.url}/ui/#/connectors`);
  const row = p.locator('tr[data-connector="ui-made"]');
  await row.locator('[data-testid="pause-ui-made"]').click();
  await row.locator(".state.paused").first().waitFor({ timeout: 20_000 });
  await row.locator('[data-testid="resume-ui-made"]').click();
  await row.locator(".state.running").first().waitFor({ timeout: 20_000 });
  p.once("dialog", (d) => d.accept());
  await row.locator('[data-testid="delete-ui-made"]').click();
  await row.waitFor({ state: "detached", timeout: 20_000 });
  const r = await fetch(`${demo.url}/connectors/ui-made`);
  assert.equal(r.status, 404);
  assert.deepEqual(p.errors, []);
});

test("a filter over a 1,000,000-record topic streams its progress and stops; the page stays responsive", async () => {
  // 1,000,000 small records, written by kcat (librdkafka).
  const lines = Array.from({ length: 1_000_000 }, (_, i) => `{"n":${i},"text":"row ${i}"}`).join("\n") + "\n";
  execFileSync("kcat", ["-P", "-b", demo.broker, "-t", "big", "-z", "none", "-X", "topic.partitioner=murmur2_random", "-X", "batch.num.messages=10000", "-X", "linger.ms=50"], { input: lines, maxBuffer: 1 << 28 });
  await waitFor(async () => (await (await fetch(`${demo.url}/ui/api/topics/big`)).json()).records >= 1_000_000, "1,000,000 records in big", 60_000);

  const p = await page();
  await p.goto(`${demo.url}/ui/#/topics/big`);
  await p.locator('[data-testid="message"]').first().waitFor();
  await p.fill('[data-testid="filter"]', "row 99999");
  await p.locator('[data-testid="run-filter"]').click();
  // Progress streams in: scanned grows while matches arrive.
  const scanned = async () => Number((await p.locator('[data-testid="scanned"]').innerText()).replace(/,/g, ""));
  const first = await waitFor(async () => {
    const n = await scanned();
    return n > 0 ? n : null;
  }, "the first progress event");
  const second = await waitFor(async () => {
    const n = await scanned();
    return n > first ? n : null;
  }, "more progress");
  assert.ok(second > first);
  // The page answers while the filter runs: the main thread is not blocked.
  const t0 = Date.now();
  await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
  assert.ok(Date.now() - t0 < 1000, "a frame within a second while filtering");
  // Stop it before the end, and it stays stopped.
  await p.locator('[data-testid="stop-filter"]').click({ timeout: 5000 });
  await p.locator('[data-testid="run-filter"]').waitFor();
  const atStop = await scanned();
  assert.ok(atStop < 1_000_000, `stopped at ${atStop}, before the end`);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await scanned(), atStop);
  assert.match(await p.locator('[data-testid="filter-progress"]').innerText(), /stopped/);
  await p.screenshot({ path: join(shots, "filter.png") });
  // Matches found so far are listed.
  assert.ok((await p.locator('[data-testid="message"]').count()) >= 1);
  assert.deepEqual(p.errors, []);
});

test("a read-only user sees everything and changes nothing: the API refuses", async () => {
  const rest = await freePort();
  await start(
    ["connect", "--bootstrap-servers", demo.broker, "--rest", `127.0.0.1:${rest}`, "--group-id", "ro-test", "--data-dir", join(tmp, "ro")],
    /worker ready/,
    {
      PGMOTION_REST_AUTH: "basic:admin:admin-secret",
      PGMOTION_REST_VIEWER_AUTH: "basic:viewer:viewer-secret",
      PGMOTION_CONFIG_STORAGE_TOPIC: "ro-configs",
      PGMOTION_OFFSET_STORAGE_TOPIC: "ro-offsets",
      PGMOTION_STATUS_STORAGE_TOPIC: "ro-status",
    },
  );
  const url = `http://127.0.0.1:${rest}`;
  const auth = (u, pw) => ({ Authorization: "Basic " + Buffer.from(`${u}:${pw}`).toString("base64") });
  const viewer = auth("viewer", "viewer-secret");

  // The browser, as the viewer: topics and messages are there, no button to change anything.
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, httpCredentials: { username: "viewer", password: "viewer-secret" } });
  const p = await page(ctx);
  await p.goto(`${url}/ui/#/topics`);
  await p.locator('tr[data-topic="demo.public.orders"]').waitFor();
  assert.equal(await p.locator('[data-testid="role"]').innerText(), "read-only");
  assert.equal(await p.getByRole("button", { name: "New topic" }).count(), 0);
  assert.equal(await p.getByRole("button", { name: "Delete" }).count(), 0);
  await p.goto(`${url}/ui/#/topics/demo.public.orders`);
  await p.locator('[data-testid="message"]').first().waitFor();
  await p.goto(`${url}/ui/#/connectors`);
  await p.locator('[data-testid="connectors"]').waitFor();
  assert.equal(await p.locator('[data-testid="new-connector"]').count(), 0);
  await p.screenshot({ path: join(shots, "read-only.png"), fullPage: true });

  // The API itself refuses every change, on the console's API and on Kafka Connect's.
  const writes = [
    ["POST", "/connectors", { name: "x", config: { "connector.class": "io.debezium.connector.postgresql.PostgresConnector" } }],
    ["PUT", "/connectors/demo-connector/pause"],
    ["DELETE", "/connectors/demo-connector"],
    ["PUT", "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate", {}],
    ["POST", "/ui/api/topics", { name: "made-by-viewer" }],
    ["DELETE", "/ui/api/topics/demo.public.orders"],
    ["PUT", "/ui/api/topics/demo.public.orders/configs", { "retention.ms": "1" }],
    ["POST", "/ui/api/groups/g/reset", { to: "start" }],
    ["DELETE", "/ui/api/groups/g"],
  ];
  for (const [method, path, body] of writes) {
    const r = await fetch(url + path, { method, headers: { ...viewer, "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
    assert.equal(r.status, 403, `${method} ${path} as the viewer answered ${r.status}`);
  }
  // Reads work; a wrong password does not.
  assert.equal((await fetch(url + "/ui/api/topics", { headers: viewer })).status, 200);
  assert.equal((await fetch(url + "/connectors", { headers: viewer })).status, 200);
  assert.equal((await fetch(url + "/ui/api/topics", { headers: auth("viewer", "nope") })).status, 401);
  // The admin may.
  const made = await fetch(url + "/ui/api/topics", { method: "POST", headers: { ...auth("admin", "admin-secret"), "Content-Type": "application/json" }, body: JSON.stringify({ name: "made-by-admin" }) });
  assert.equal(made.status, 201);
  assert.equal((await fetch(`${demo.url}/ui/api/topics/made-by-viewer`)).status, 404);
  assert.deepEqual(p.errors, []);
});
