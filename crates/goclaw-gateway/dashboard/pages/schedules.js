// Cron jobs and teams: what runs on a schedule (run now, enable or disable) and the teams
// of agents.

import { h, heading, table, replace, notice, when, pill, guarded, pretty, act } from "../dom.js";

function schedule(s) {
  if (!s || typeof s !== "object") return String(s ?? "—");
  return s.expr || (s.everyMs ? `every ${s.everyMs / 1000}s` : s.at ? `at ${when(s.at)}` : pretty(s));
}

export async function render({ gateway }, main) {
  const jobs = h("div", { class: "stack" }, notice("Loading…"));
  const teams = h("div", { class: "stack" }, notice("Loading…"));
  const status = h("div", { "aria-live": "polite" });
  replace(main, heading("Cron & teams"), status, h("h2", {}, "Cron jobs"), jobs, h("h2", {}, "Teams"), teams);

  const call = (method, params, done) => act(status, () => gateway.call(method, params), done, loadJobs);
  const loadJobs = () =>
    guarded(jobs, async () => {
      const data = await gateway.call("cron.list", { includeDisabled: true });
      replace(
        jobs,
        table(
          [
            ["Name", (j) => j.name],
            ["Agent", (j) => j.agentId],
            ["Schedule", (j) => schedule(j.schedule)],
            ["Next run", (j) => when(j.state?.nextRunAtMs)],
            ["Last", (j) => j.state?.lastStatus || "—"],
            ["State", (j) => (j.enabled ? pill("enabled", "ok") : pill("disabled", "warn"))],
            [
              "",
              (j) =>
                h(
                  "div",
                  { class: "actions" },
                  h("button", { type: "button", onclick: () => call("cron.run", { jobId: j.id }, `Started ${j.name}.`) }, "Run now"),
                  h("button", { type: "button", onclick: () => call("cron.toggle", { jobId: j.id, enabled: !j.enabled }, j.enabled ? "Disabled." : "Enabled.") }, j.enabled ? "Disable" : "Enable"),
                ),
            ],
          ],
          data.jobs || [],
          "No cron jobs.",
        ),
      );
    });
  const loadTeams = () =>
    guarded(teams, async () => {
      const data = await gateway.call("teams.list");
      replace(
        teams,
        table(
          [
            ["Team", (t) => t.name],
            ["Lead", (t) => t.lead_agent_key || "—"],
            ["Members", (t) => t.member_count ?? (t.members || []).length],
            ["Status", (t) => pill(t.status, t.status === "active" ? "ok" : "warn")],
          ],
          data.teams || [],
          "No teams.",
        ),
      );
    });
  await Promise.all([loadJobs(), loadTeams()]);
}
