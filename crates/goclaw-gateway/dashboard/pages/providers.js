// Providers: the LLM providers this gateway uses (keys always masked), their models, and a
// test call.

import { h, heading, table, replace, notice, pill, guarded } from "../dom.js";

export async function render({ gateway, hello }, main) {
  const admin = hello.role === "admin" || hello.role === "owner";
  const body = h("div", { class: "stack" }, notice("Loading…"));
  const status = h("div", { "aria-live": "polite" });
  replace(main, heading("Providers"), status, body);

  const test = async (p) => {
    replace(status, notice(`Testing ${p.name}…`));
    try {
      const models = await gateway.http("GET", `/v1/providers/${encodeURIComponent(p.id)}/models`);
      const model = models?.models?.[0]?.id;
      if (!model) {
        replace(status, notice(`${p.name}: no models listed.`, "error"));
        return;
      }
      const result = await gateway.http("POST", `/v1/providers/${encodeURIComponent(p.id)}/verify`, { model });
      replace(status, result.valid ? notice(`${p.name} answered with ${model}.`, "ok") : notice(`${p.name}: ${result.error || "failed"}`, "error"));
    } catch (e) {
      replace(status, notice(`${p.name}: ${e.message}`, "error"));
    }
  };
  await guarded(body, async () => {
    const data = await gateway.http("GET", "/v1/providers");
    replace(
      body,
      table(
        [
          ["Name", (p) => p.display_name || p.name],
          ["Type", (p) => p.provider_type],
          ["Endpoint", (p) => p.api_base || "default"],
          ["Key", (p) => h("code", {}, p.api_key || "none")],
          ["Source", (p) => (p.read_only ? pill("config (read-only)") : pill("database"))],
          ["State", (p) => (p.enabled ? pill("enabled", "ok") : pill("disabled", "warn"))],
          ["", (p) => (admin ? h("button", { type: "button", onclick: () => test(p) }, "Test") : "")],
        ],
        data?.providers || [],
        "No providers configured.",
      ),
    );
  });
}
