// The dashboard's shell: sign-in, navigation, light and dark themes, and the pages, each a
// module with `render(ctx, main, params)` that may return a cleanup function.

import { Gateway, credentials, pairBrowser } from "./client.js";
import { h, replace, notice, field } from "./dom.js";
import * as overview from "./pages/overview.js";
import * as chat from "./pages/chat.js";
import * as agents from "./pages/agents.js";
import * as sessions from "./pages/sessions.js";
import * as approvals from "./pages/approvals.js";
import * as apiKeys from "./pages/api_keys.js";
import * as providers from "./pages/providers.js";
import * as traces from "./pages/traces.js";
import * as channels from "./pages/channels.js";
import * as memory from "./pages/memory.js";
import * as schedules from "./pages/schedules.js";
import * as config from "./pages/config.js";

const PAGES = [
  ["overview", "Overview", overview],
  ["chat", "Chat", chat],
  ["agents", "Agents", agents],
  ["sessions", "Sessions", sessions],
  ["approvals", "Approvals", approvals],
  ["keys", "API keys", apiKeys],
  ["providers", "Providers", providers],
  ["traces", "Traces", traces],
  ["channels", "Channels & pairing", channels],
  ["memory", "Memory & vault", memory],
  ["schedules", "Cron & teams", schedules],
  ["config", "Config & doctor", config],
];

const root = document.getElementById("app");
const THEME_KEY = "goclaw.dashboard.theme";

function applyTheme(theme) {
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function currentTheme() {
  return document.documentElement.dataset.theme || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
}

applyTheme(localStorage.getItem(THEME_KEY));

function themeButton() {
  return h(
    "button",
    {
      class: "ghost",
      type: "button",
      "aria-label": "Switch between light and dark theme",
      onclick: () => {
        const next = currentTheme() === "dark" ? "light" : "dark";
        localStorage.setItem(THEME_KEY, next);
        applyTheme(next);
      },
    },
    "◐ Theme",
  );
}

/** The sign-in page: gateway token, API key, or browser pairing. */
function signIn(message) {
  const status = h("div", { class: "status-line", "aria-live": "polite" }, message ? notice(message, "error") : null);
  const remember = h("input", { type: "checkbox", name: "remember" });
  const tokenForm = (kind) => {
    const token = h("input", { type: "password", name: "token", autocomplete: "current-password", required: true });
    const user = h("input", { type: "text", name: "user", autocomplete: "username", value: kind === "token" ? "system" : "" });
    const tenant = h("input", { type: "text", name: "tenant", autocomplete: "off" });
    return h(
      "form",
      {
        class: "card",
        onsubmit: async (event) => {
          event.preventDefault();
          replace(status, notice("Signing in…"));
          await start({ token: token.value.trim(), userId: user.value.trim(), tenant: tenant.value.trim() }, remember.checked, status);
        },
      },
      h("h2", {}, kind === "token" ? "Gateway token" : "API key"),
      field(kind === "token" ? "Gateway token" : "API key", token),
      kind === "token" ? field("User id", user, "The owner signs in as “system” unless owners are configured.") : null,
      field("Tenant (optional)", tenant, "A tenant's slug or id; empty for your own."),
      h("button", { class: "primary", type: "submit" }, "Sign in"),
    );
  };
  const pairUser = h("input", { type: "text", name: "pair-user", autocomplete: "username" });
  const pairCode = h("p", { class: "pair-code", "aria-live": "polite" });
  const pairForm = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        replace(status, notice("Waiting for an administrator to approve this browser…"));
        try {
          const senderId = await pairBrowser(pairUser.value.trim(), (code) => replace(pairCode, "Pairing code: ", h("strong", {}, code)));
          await start({ senderId, userId: pairUser.value.trim() }, remember.checked, status);
        } catch (error) {
          replace(status, notice(error.message, "error"));
        }
      },
    },
    h("h2", {}, "Pair this browser"),
    field("User id", pairUser),
    pairCode,
    h("button", { class: "primary", type: "submit" }, "Request pairing"),
  );
  replace(
    root,
    h(
      "main",
      { class: "signin", id: "main" },
      h("header", { class: "page-head" }, h("h1", {}, "Sign in to GoClaw"), themeButton()),
      status,
      h("div", { class: "grid" }, tokenForm("token"), tokenForm("key"), pairForm),
      h("label", { class: "remember" }, remember, " Keep me signed in on this device"),
    ),
  );
}

/** Connects with `creds`; on success stores them and opens the dashboard. */
async function start(creds, remember, status) {
  const gateway = new Gateway(creds);
  try {
    await gateway.connect();
  } catch (error) {
    if (status) replace(status, notice(error.message, "error"));
    else signIn(error.message);
    return;
  }
  if (remember !== undefined) credentials.save(creds, remember);
  shell(gateway);
}

/** The signed-in layout: navigation and the current page. */
function shell(gateway) {
  const hello = gateway.hello;
  const main = h("main", { id: "main", tabindex: "-1" });
  const links = new Map();
  const badge = h("span", { class: "badge", hidden: true, "aria-label": "pending approvals" });
  const nav = h(
    "nav",
    { "aria-label": "Pages" },
    h(
      "ul",
      {},
      PAGES.map(([id, title]) => {
        const link = h("a", { href: `#/${id}` }, title, id === "approvals" ? badge : null);
        links.set(id, link);
        return h("li", {}, link);
      }),
    ),
  );
  const connection = h("span", { class: "pill ok", role: "status" }, "connected");
  const menu = h(
    "button",
    {
      class: "ghost menu",
      type: "button",
      "aria-expanded": "false",
      "aria-controls": "sidebar",
      onclick: () => {
        const open = sidebar.classList.toggle("open");
        menu.setAttribute("aria-expanded", String(open));
      },
    },
    "☰ Menu",
  );
  const signOut = h(
    "button",
    {
      class: "ghost",
      type: "button",
      onclick: () => {
        gateway.close();
        credentials.clear();
        location.hash = "";
        signIn();
      },
    },
    "Sign out",
  );
  const sidebar = h("aside", { id: "sidebar" }, nav);
  replace(
    root,
    h(
      "div",
      { class: "layout" },
      h(
        "header",
        { class: "topbar" },
        menu,
        h("span", { class: "brand" }, h("img", { src: "/ui/icon.svg", alt: "", width: 24, height: 24 }), "GoClaw"),
        h("span", { class: "who" }, `${hello.user_id || "anonymous"} · ${hello.role}${hello.tenant_name ? ` · ${hello.tenant_name}` : ""}`),
        connection,
        themeButton(),
        signOut,
      ),
      sidebar,
      main,
    ),
  );

  gateway.on("connection", ({ up }) => {
    connection.className = `pill ${up ? "ok" : "warn"}`;
    connection.textContent = up ? "connected" : "reconnecting…";
  });
  gateway.on("signed-out", ({ reason }) => {
    gateway.close();
    credentials.clear();
    signIn(reason || "Signed out.");
  });

  const pendingApprovals = new Set();
  const showBadge = () => {
    badge.hidden = pendingApprovals.size === 0;
    badge.textContent = String(pendingApprovals.size);
  };
  gateway.on("exec.approval.requested", (p) => {
    pendingApprovals.add(p.id);
    showBadge();
  });
  gateway.on("exec.approval.resolved", (p) => {
    pendingApprovals.delete(p.id);
    showBadge();
  });

  let cleanup = null;
  let current = 0;
  const route = () => {
    const generation = ++current;
    const [id = "overview", ...rest] = location.hash.replace(/^#\/?/, "").split("/");
    const page = PAGES.find(([p]) => p === id) || PAGES[0];
    for (const [pid, link] of links) {
      if (pid === page[0]) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    sidebar.classList.remove("open");
    menu.setAttribute("aria-expanded", "false");
    if (typeof cleanup === "function") cleanup();
    cleanup = null;
    // Each visit renders into its own view: a render still loading when the user moves on
    // writes into a view no longer shown, and its subscriptions end as soon as it is done.
    const view = h("div", { class: "view" });
    main.replaceChildren(view);
    document.title = `${page[1]} · GoClaw`;
    const ctx = { gateway, hello, navigate: (hash) => (location.hash = hash) };
    Promise.resolve(page[2].render(ctx, view, rest.map(decodeURIComponent)))
      .then((done) => {
        if (generation === current) cleanup = done;
        else if (typeof done === "function") done();
      })
      .catch((error) => replace(view, notice(error.message || String(error), "error")));
  };
  window.onhashchange = route;
  route();
}

const saved = credentials.load();
if (saved) start(saved, undefined, null);
else signIn();
