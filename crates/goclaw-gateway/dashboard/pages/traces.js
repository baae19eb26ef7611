// Traces: recent runs with their tokens, cost and duration, and one run's spans.

import { h, heading, table, replace, notice, when, pill, guarded } from "../dom.js";

function duration(ms) {
  return ms === undefined || ms === null ? "—" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function statusPill(status) {
  return pill(status, status === "completed" ? "ok" : status === "running" ? "" : "warn");
}

async function showTrace(gateway, main, id) {
  const body = h("div", { class: "stack" }, notice("Loading…"));
  replace(main, h("p", {}, h("a", { href: "#/traces" }, "← All traces")), h("h1", { tabindex: "-1" }, "Trace"), body);
  await guarded(body, async () => {
    const { trace, spans } = await gateway.http("GET", `/v1/traces/${encodeURIComponent(id)}`);
    replace(
      body,
      h(
        "dl",
        { class: "facts" },
        [
          ["Name", trace.name],
          ["Session", trace.session_key],
          ["User", trace.user_id],
          ["Status", trace.status],
          ["Started", when(trace.start_time)],
          ["Duration", duration(trace.duration_ms)],
          ["Tokens", `${trace.total_input_tokens} in / ${trace.total_output_tokens} out`],
          ["Cost", `$${Number(trace.total_cost || 0).toFixed(6)}`],
        ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]),
      ),
      h("h2", {}, "Spans"),
      table(
        [
          ["Type", (s) => s.span_type],
          ["Name", (s) => s.name],
          ["Status", (s) => statusPill(s.status)],
          ["Duration", (s) => duration(s.duration_ms)],
          ["Tokens", (s) => (s.input_tokens || s.output_tokens ? `${s.input_tokens ?? 0} / ${s.output_tokens ?? 0}` : "—")],
          ["Detail", (s) => (s.error ? h("span", { class: "error" }, s.error) : s.tool_name || s.model || "")],
        ],
        spans || [],
        "No spans.",
      ),
    );
  });
}

export async function render({ gateway }, main, params) {
  if (params[0]) return showTrace(gateway, main, params[0]);
  const body = h("div", { class: "stack" }, notice("Loading…"));
  replace(main, heading("Traces"), body);
  await guarded(body, async () => {
    const data = await gateway.http("GET", "/v1/traces?limit=50");
    replace(
      body,
      table(
        [
          ["Run", (t) => h("a", { href: `#/traces/${encodeURIComponent(t.id)}` }, t.name || t.id)],
          ["User", (t) => t.user_id || "—"],
          ["Channel", (t) => t.channel || "—"],
          ["Status", (t) => statusPill(t.status)],
          ["Started", (t) => when(t.start_time)],
          ["Duration", (t) => duration(t.duration_ms)],
          ["Tokens", (t) => `${t.total_input_tokens} / ${t.total_output_tokens}`],
          ["Tools", (t) => t.tool_call_count],
          ["Cost", (t) => `$${Number(t.total_cost || 0).toFixed(6)}`],
        ],
        data?.traces || [],
        "No runs traced yet.",
      ),
    );
  });
}
