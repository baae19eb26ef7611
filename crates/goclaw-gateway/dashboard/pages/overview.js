// Overview: the gateway's health and version, the scheduler's lanes, agents with active runs,
// connected clients and this caller's usage today.

import { h, heading, table, pill, guarded, replace, notice } from "../dom.js";

function stat(label, value) {
  return h("div", { class: "stat" }, h("span", { class: "label" }, label), h("strong", {}, String(value)));
}

function uptime(ms) {
  const s = Math.floor((ms || 0) / 1000);
  const d = Math.floor(s / 86400);
  const hrs = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${hrs}h` : hrs ? `${hrs}h ${m}m` : `${m}m ${s % 60}s`;
}

export async function render({ gateway, hello }, main) {
  const body = h("div", { class: "stack" }, notice("Loading…"));
  replace(main, heading("Overview"), body);
  const load = () =>
    guarded(body, async () => {
      const [health, status, usage] = await Promise.all([
        gateway.call("health"),
        gateway.call("status"),
        gateway.http("GET", "/v1/usage/summary?period=today").catch(() => null),
      ]);
      const running = (status.agents || []).filter((a) => a.isRunning);
      replace(
        body,
        h(
          "section",
          { class: "stats", "aria-label": "Gateway" },
          stat("Status", health.status),
          stat("Version", hello.server?.version || health.version),
          stat("Uptime", uptime(health.uptime)),
          stat("Database", health.database),
          stat("Tools", health.tools),
          stat("Agents", status.agentTotal),
          stat("Sessions", status.sessions),
          stat("Clients", status.clients),
          usage?.current ? stat("Requests today", usage.current.requests ?? 0) : null,
          usage?.current ? stat("Cost today", `$${Number(usage.current.cost ?? 0).toFixed(4)}`) : null,
        ),
        h("h2", {}, "Lanes"),
        table(
          [
            ["Lane", (l) => l.lane],
            ["Running", (l) => `${l.running} / ${l.limit}`],
            ["Waiting", (l) => l.waiting],
          ],
          status.lanes || [],
          "Lane load is not reported.",
        ),
        h("h2", {}, "Active runs"),
        table(
          [
            ["Agent", (a) => a.id],
            ["Model", (a) => a.model],
            ["State", () => pill("running", "ok")],
          ],
          running,
          "No agent is running.",
        ),
        h("h2", {}, "Connected clients"),
        table(
          [
            ["User", (c) => c.userId || "—"],
            ["Role", (c) => c.role],
            ["Address", (c) => c.remoteAddr || "—"],
            ["Since", (c) => new Date(c.connectedAt).toLocaleString()],
          ],
          Array.isArray(health.clients) ? health.clients : [],
          "Only administrators see other clients.",
        ),
      );
    });
  await load();
  const off = gateway.on("agent", (event) => {
    if (event.type === "run.started" || event.type === "run.completed" || event.type === "run.failed") load();
  });
  return off;
}
