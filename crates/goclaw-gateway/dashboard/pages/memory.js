// Memory and vault: search an agent's memory (the caller's own, or everyone's for
// administrators) and the knowledge vault.

import { h, heading, table, replace, notice, field, guarded } from "../dom.js";
import { loadAgents } from "./chat.js";

export async function render({ gateway }, main) {
  const agents = await loadAgents(gateway);
  const agent = h("select", { name: "agent" }, agents.map((a) => h("option", { value: a.key }, a.key)));
  const where = h("select", { name: "where" }, h("option", { value: "memory" }, "Memory"), h("option", { value: "vault" }, "Vault"));
  const query = h("input", { type: "search", name: "query", required: true, autocomplete: "off" });
  const results = h("section", { class: "stack", "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "card search",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        search();
      },
    },
    h("div", { class: "grid" }, field("Agent", agent), field("Search in", where), field("Query", query)),
    h("button", { class: "primary", type: "submit" }, "Search"),
  );
  replace(main, heading("Memory & vault"), form, results);

  const search = () =>
    guarded(results, async () => {
      replace(results, notice("Searching…"));
      const q = query.value.trim();
      if (where.value === "memory") {
        const data = await gateway.http("POST", `/v1/agents/${encodeURIComponent(agent.value)}/memory/search`, { query: q });
        replace(
          results,
          h("p", {}, `${data.count ?? (data.results || []).length} results`),
          table(
            [
              ["Document", (r) => `${r.path}:${r.start_line}-${r.end_line}`],
              ["Scope", (r) => r.scope || "—"],
              ["Score", (r) => Number(r.score || 0).toFixed(3)],
              ["Text", (r) => h("span", { class: "snippet" }, r.snippet)],
            ],
            data.results || [],
            "Nothing found.",
          ),
        );
      } else {
        const data = await gateway.http("POST", "/v1/vault/search", { query: q, agent_id: agent.value });
        const rows = Array.isArray(data) ? data : data?.results || [];
        replace(
          results,
          table(
            [
              ["Document", (r) => r.document?.title || r.document?.path || r.title || r.path || "—"],
              ["Score", (r) => Number(r.score || 0).toFixed(3)],
              ["Text", (r) => h("span", { class: "snippet" }, r.snippet || r.document?.summary || "")],
            ],
            rows,
            "Nothing found.",
          ),
        );
      }
    });
}
