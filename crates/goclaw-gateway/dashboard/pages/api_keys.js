// API keys: list, create (the key is shown once, never again), revoke.

import { h, heading, table, replace, notice, field, when, pill, guarded } from "../dom.js";

const SCOPES = ["operator.read", "operator.write", "operator.approvals", "operator.pairing", "operator.admin", "operator.provision"];

export async function render({ gateway }, main) {
  const body = h("div", { class: "stack" }, notice("Loading…"));
  const status = h("div", { "aria-live": "polite" });
  const name = h("input", { name: "name", required: true, maxlength: 100, autocomplete: "off" });
  const owner = h("input", { name: "owner_id", autocomplete: "off" });
  const expires = h("select", { name: "expires" }, [
    h("option", { value: "0" }, "Never"),
    h("option", { value: String(7 * 86400) }, "7 days"),
    h("option", { value: String(30 * 86400) }, "30 days"),
    h("option", { value: String(365 * 86400) }, "1 year"),
  ]);
  const boxes = SCOPES.map((s) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "scope", value: s, checked: s === "operator.read" }), ` ${s}`));
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        const scopes = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
        const request = { name: name.value.trim(), scopes, expires_in: Number(expires.value) || undefined };
        if (owner.value.trim()) request.owner_id = owner.value.trim();
        try {
          const created = await gateway.http("POST", "/v1/api-keys", request);
          replace(
            status,
            h(
              "div",
              { class: "notice ok once", role: "status" },
              h("p", {}, "Copy this key now — it will not be shown again."),
              h("code", { class: "secret", tabindex: "0" }, created.key),
            ),
          );
          name.value = "";
          load();
        } catch (e) {
          replace(status, notice(e.message, "error"));
        }
      },
    },
    h("h2", {}, "New API key"),
    h("div", { class: "grid" }, field("Name", name), field("Bound to user (optional)", owner), field("Expires", expires)),
    h("fieldset", {}, h("legend", {}, "Scopes"), boxes),
    h("button", { class: "primary", type: "submit" }, "Create key"),
  );
  replace(main, heading("API keys"), status, body, form);

  const revoke = async (key) => {
    if (!confirm(`Revoke ${key.name}?`)) return;
    try {
      await gateway.http("POST", `/v1/api-keys/${encodeURIComponent(key.id)}/revoke`);
      replace(status, notice(`Revoked ${key.name}.`, "ok"));
      load();
    } catch (e) {
      replace(status, notice(e.message, "error"));
    }
  };
  const load = () =>
    guarded(body, async () => {
      const keys = (await gateway.http("GET", "/v1/api-keys")) || [];
      replace(
        body,
        table(
          [
            ["Name", (k) => k.name],
            ["Prefix", (k) => h("code", {}, `${k.prefix}…`)],
            ["Scopes", (k) => (k.scopes || []).join(", ")],
            ["Owner", (k) => k.owner_id || "—"],
            ["Last used", (k) => when(k.last_used_at)],
            ["Expires", (k) => when(k.expires_at)],
            ["State", (k) => (k.revoked ? pill("revoked", "warn") : pill("active", "ok"))],
            ["", (k) => (k.revoked ? "" : h("button", { type: "button", class: "danger", onclick: () => revoke(k) }, "Revoke"))],
          ],
          Array.isArray(keys) ? keys : keys.keys || [],
          "No API keys yet.",
        ),
      );
    });
  await load();
}
