// End-to-end test of the dashboard: Playwright drives Debian's Chromium against a running
// gateway (started by crates/goclaw/tests/dashboard_e2e.rs with a scripted fake model).
//
// Environment: GOCLAW_E2E_URL (the gateway), GOCLAW_E2E_TOKEN (its gateway token),
// GOCLAW_E2E_VIEWER_KEY (an `operator.read` key bound to user `vera`), GOCLAW_E2E_TENANT (the
// slug of a second tenant, empty of agents),
// GOCLAW_E2E_CHROMIUM (default /usr/bin/chromium), GOCLAW_E2E_SCREENSHOTS (a folder to write
// one screenshot per page into; none when unset). Exits non-zero with a message on the first
// failed expectation.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = process.env.GOCLAW_E2E_URL;
const token = process.env.GOCLAW_E2E_TOKEN;
const viewerKey = process.env.GOCLAW_E2E_VIEWER_KEY || "";
const tenantSlug = process.env.GOCLAW_E2E_TENANT || "";
const shots = process.env.GOCLAW_E2E_SCREENSHOTS || "";
const executablePath = process.env.GOCLAW_E2E_CHROMIUM || "/usr/bin/chromium";
if (!base || !token) {
  console.error("GOCLAW_E2E_URL and GOCLAW_E2E_TOKEN are required");
  process.exit(2);
}
const gatewayHost = new URL(base).host;
const WAIT = 20000;

const problems = [];
const requests = [];

function expect(condition, message) {
  if (!condition) throw new Error(`expectation failed: ${message}`);
}

async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

/** Watches everything a page asks for and every error it reports. */
function watch(page, label, refusalsExpected = false) {
  page.on("request", (request) => requests.push(request.url()));
  page.on("websocket", (socket) => requests.push(socket.url()));
  page.on("pageerror", (error) => problems.push(`${label}: page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // The browser logs every refused request; for a viewer those refusals are the point.
    if (refusalsExpected && /status of 403/.test(message.text())) return;
    problems.push(`${label}: console error: ${message.text()}`);
  });
}

async function signIn(page) {
  await page.goto(`${base}/`);
  await page.getByRole("heading", { name: "Sign in to GoClaw" }).waitFor({ timeout: WAIT });
  const form = page.locator("form").filter({ has: page.getByRole("heading", { name: "Gateway token" }) });
  await form.getByLabel("Gateway token").fill(token);
  await form.getByLabel("User id").fill("system");
  await form.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor({ timeout: WAIT });
}

async function open(page, hash, title) {
  await page.goto(`${base}/#/${hash}`);
  await page.getByRole("heading", { name: title, exact: true }).first().waitFor({ timeout: WAIT });
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const steps = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  watch(page, "main");

  // Sign in with the gateway token; a wrong token is refused first.
  await page.goto(`${base}/`);
  await shot(page, "signin");
  const form = page.locator("form").filter({ has: page.getByRole("heading", { name: "Gateway token" }) });
  await form.getByLabel("Gateway token").fill("not-the-token");
  await form.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").waitFor({ timeout: WAIT });
  await signIn(page);
  await page.locator(".stat").first().waitFor({ timeout: WAIT });
  expect((await page.locator("section.stats").innerText()).includes("ok"), "overview shows the gateway's status");
  await shot(page, "overview");
  steps.push("signed in");

  // A second tab, signed in too, watches approvals live.
  const approvals = await context.newPage();
  watch(approvals, "approvals");
  await signIn(approvals);
  await open(approvals, "approvals", "Approvals");
  await approvals.getByText("Nothing is waiting for approval.").waitFor({ timeout: WAIT });

  // Chat: a streamed reply.
  await open(page, "chat", "Chat");
  await page.getByRole("button", { name: "New chat" }).click();
  await page.waitForURL(/#\/chat\/agent%3Adefault%3Aws%3Adirect%3A/, { timeout: WAIT });
  await page.getByText("No messages yet. Say something.").waitFor({ timeout: WAIT });
  await page.getByLabel("Message", { exact: true }).fill("hello there");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".msg.assistant .text", { hasText: "Hello from the dashboard test" }).waitFor({ timeout: WAIT });
  steps.push("streamed reply");

  // A tool call that needs approval: it appears live in the other tab, is approved there,
  // and the chat shows the call, its result and the final answer.
  await page.getByLabel("Message", { exact: true }).fill("run the echo command");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator(".tool summary", { hasText: "exec" }).waitFor({ timeout: WAIT });
  const card = approvals.locator("article.approval", { hasText: "echo dashboard-e2e" });
  await card.waitFor({ timeout: WAIT });
  await shot(approvals, "approvals");
  await card.getByRole("button", { name: "Approve", exact: true }).click();
  await approvals.getByText("Approved once.").waitFor({ timeout: WAIT });
  await page.locator(".tool-result", { hasText: "dashboard-e2e" }).waitFor({ timeout: WAIT });
  await page.locator(".msg.assistant .text", { hasText: "The command printed dashboard-e2e" }).waitFor({ timeout: WAIT });
  await shot(page, "chat");
  steps.push("tool call approved live");

  // Sessions list shows the conversation.
  await open(page, "sessions", "Sessions");
  await page.locator("td code", { hasText: "agent:default:ws:direct:" }).first().waitFor({ timeout: WAIT });
  await shot(page, "sessions");

  // Agents and their context files.
  await open(page, "agents", "Agents");
  await page.locator("td code", { hasText: "default" }).first().waitFor({ timeout: WAIT });
  await page.getByRole("button", { name: "Files" }).first().click();
  await page.getByLabel("Content").waitFor({ timeout: WAIT });
  await shot(page, "agents");
  const createAgent = page.locator("form").filter({ has: page.getByRole("heading", { name: "New agent" }) });
  await createAgent.getByLabel("Key").fill("e2e-helper");
  await createAgent.getByLabel("Name").fill("Helper");
  await createAgent.getByRole("button", { name: "Create agent" }).click();
  const helperRow = page.locator("tr", { hasText: "e2e-helper" });
  await helperRow.waitFor({ timeout: WAIT });
  await helperRow.getByRole("button", { name: "Edit" }).click();
  const editAgent = page.locator("form").filter({ has: page.getByRole("heading", { name: "Edit e2e-helper" }) });
  await editAgent.getByLabel("Name").fill("Renamed helper");
  await editAgent.getByRole("button", { name: "Save agent" }).click();
  await page.locator("tr", { hasText: "Renamed helper" }).waitFor({ timeout: WAIT });
  page.once("dialog", (dialog) => dialog.accept());
  await page.locator("tr", { hasText: "e2e-helper" }).getByRole("button", { name: "Delete" }).click();
  await page.getByText("Deleted e2e-helper.").waitFor({ timeout: WAIT });
  await page.locator("tr", { hasText: "e2e-helper" }).waitFor({ state: "detached", timeout: WAIT });
  steps.push("agent created, edited, deleted");

  // API keys: created, shown once, working; revoked, refused.
  await open(page, "keys", "API keys");
  await page.getByLabel("Name").fill("e2e key");
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = page.locator("code.secret");
  await secret.waitFor({ timeout: WAIT });
  const key = (await secret.innerText()).trim();
  expect(key.startsWith("goclaw_"), `a new key is shown (${key.slice(0, 7)}…)`);
  await shot(page, "api_keys");
  const withKey = (k) => fetch(`${base}/v1/agents`, { headers: { Authorization: `Bearer ${k}` } }).then((r) => r.status);
  expect((await withKey(key)) === 200, "the new key works");
  await open(page, "overview", "Overview");
  await open(page, "keys", "API keys");
  await page.locator("tr", { hasText: "e2e key" }).waitFor({ timeout: WAIT });
  expect((await page.locator("code.secret").count()) === 0, "the key is not shown again");
  expect(!(await page.content()).includes(key), "the key is nowhere on the page any more");
  page.once("dialog", (dialog) => dialog.accept());
  await page.locator("tr", { hasText: "e2e key" }).getByRole("button", { name: "Revoke" }).click();
  await page.locator("tr", { hasText: "e2e key" }).getByText("revoked").waitFor({ timeout: WAIT });
  expect((await withKey(key)) === 401, "the revoked key is refused");
  steps.push("api key created and revoked");

  // Providers: keys masked.
  await open(page, "providers", "Providers");
  await page.locator("td code", { hasText: "***" }).first().waitFor({ timeout: WAIT });
  expect(!(await page.content()).includes("test-anthropic-key"), "no provider key on the page");
  await shot(page, "providers");

  // Traces: the runs, then one run's spans.
  await open(page, "traces", "Traces");
  await page.locator("td a").first().waitFor({ timeout: WAIT });
  await shot(page, "traces");
  await page.locator("tr", { hasText: "tool" }).locator("td a").first().click().catch(() => page.locator("td a").first().click());
  await page.getByRole("heading", { name: "Spans" }).waitFor({ timeout: WAIT });
  await page.locator("td", { hasText: "llm_call" }).first().waitFor({ timeout: WAIT });
  await shot(page, "trace");
  steps.push("trace spans");

  // Memory search finds the seeded note.
  await open(page, "memory", "Memory & vault");
  await page.getByLabel("Query").fill("jasmine");
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator(".snippet", { hasText: "jasmine" }).first().waitFor({ timeout: WAIT });
  await shot(page, "memory");
  steps.push("memory search");

  // The remaining pages render.
  await open(page, "channels", "Channels & pairing");
  await page.getByRole("heading", { name: "Paired" }).waitFor({ timeout: WAIT });
  await shot(page, "channels");
  await open(page, "schedules", "Cron & teams");
  await page.getByText("No cron jobs.").waitFor({ timeout: WAIT });
  await shot(page, "schedules");
  await open(page, "config", "Config & doctor");
  await page.locator("pre.config").waitFor({ timeout: WAIT });
  expect(!(await page.content()).includes(token), "the configuration shows no gateway token");
  await page.getByRole("button", { name: "Run production audit" }).click();
  await page.locator("td", { hasText: "database" }).first().waitFor({ timeout: 60000 });
  expect(!(await page.content()).includes(token), "the audit shows no gateway token");
  await shot(page, "config");
  steps.push("other pages");

  // Keyboard: the skip link and the navigation are reachable with Tab.
  await open(page, "overview", "Overview");
  await page.keyboard.press("Tab");
  expect((await page.evaluate(() => document.activeElement?.textContent || "")).includes("Skip"), "Tab reaches the skip link first");

  // Dark theme and a phone-sized screen.
  await page.getByRole("button", { name: "Switch between light and dark theme" }).click();
  expect(["dark", "light"].includes(await page.evaluate(() => document.documentElement.dataset.theme)), "the theme switches");
  await shot(page, "overview_dark");
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  watch(small, "phone");
  await signIn(small);
  await small.getByRole("button", { name: "☰ Menu" }).click();
  await small.getByRole("link", { name: "Chat" }).click();
  await small.getByRole("heading", { name: "Chat", exact: true }).waitFor({ timeout: WAIT });
  await shot(small, "chat_phone");
  steps.push("keyboard, theme, phone");

  // A viewer signs in with her API key: she sees the pages, not the administrators' data,
  // and what she may not do is refused with a message, not a broken page.
  if (viewerKey) {
    const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const viewer = await viewerContext.newPage();
    watch(viewer, "viewer", true);
    await viewer.goto(`${base}/`);
    const keyForm = viewer.locator("form").filter({ has: viewer.getByRole("heading", { name: "API key" }) });
    await keyForm.getByLabel("API key").fill(viewerKey);
    await keyForm.getByRole("button", { name: "Sign in" }).click();
    await viewer.getByRole("heading", { name: "Overview" }).waitFor({ timeout: WAIT });
    expect((await viewer.locator(".who").innerText()).includes("vera · viewer"), "the viewer's role is shown");
    await open(viewer, "keys", "API keys");
    await viewer.locator(".notice.error").first().waitFor({ timeout: WAIT });
    await open(viewer, "traces", "Traces");
    await viewer.getByText("No runs traced yet.").waitFor({ timeout: WAIT });
    await open(viewer, "agents", "Agents");
    expect((await viewer.getByRole("button", { name: "Create agent" }).count()) === 0, "no agent form for a viewer");
    await open(viewer, "config", "Config & doctor");
    await viewer.getByText("Only the owner sees the configuration.").waitFor({ timeout: WAIT });
    await viewerContext.close();
    steps.push("viewer");
  }

  // The owner signs in to another tenant: its name is shown and none of the master tenant's
  // agents, sessions or runs are.
  if (tenantSlug) {
    const tenantContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const other = await tenantContext.newPage();
    watch(other, "tenant");
    await other.goto(`${base}/`);
    const tokenForm = other.locator("form").filter({ has: other.getByRole("heading", { name: "Gateway token" }) });
    await tokenForm.getByLabel("Gateway token").fill(token);
    await tokenForm.getByLabel("User id").fill("system");
    await tokenForm.getByLabel("Tenant (optional)").fill(tenantSlug);
    await tokenForm.getByRole("button", { name: "Sign in" }).click();
    await other.getByRole("heading", { name: "Overview" }).waitFor({ timeout: WAIT });
    expect((await other.locator(".who").innerText()).includes("Acme"), "the tenant's name is shown");
    await open(other, "agents", "Agents");
    await other.getByText("No agents yet.").waitFor({ timeout: WAIT });
    await open(other, "sessions", "Sessions");
    await other.getByText("No sessions yet.").waitFor({ timeout: WAIT });
    await open(other, "traces", "Traces");
    await other.getByText("No runs traced yet.").waitFor({ timeout: WAIT });
    await tenantContext.close();
    steps.push("tenant");
  }

  // Nothing but the gateway was asked for anything.
  const foreign = requests.filter((url) => {
    if (url.startsWith("data:") || url.startsWith("blob:")) return false;
    try {
      return new URL(url).host !== gatewayHost;
    } catch {
      return true;
    }
  });
  expect(requests.length > 10, `the network log recorded requests (${requests.length})`);
  expect(foreign.length === 0, `requests to other hosts: ${foreign.join(", ")}`);
  expect(problems.length === 0, `errors in the pages: ${problems.join(" | ")}`);
  console.log(JSON.stringify({ ok: true, steps, requests: requests.length }));
} catch (error) {
  console.error(`dashboard e2e failed after [${steps.join(", ")}]: ${error.message}`);
  if (problems.length) console.error(`page errors: ${problems.join(" | ")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
