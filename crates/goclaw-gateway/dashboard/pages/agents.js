// Agents: list, create, edit the model and status, delete, and edit their context files
// (SOUL.md, AGENTS.md, …).

import { h, heading, table, replace, notice, field, pill, guarded } from "../dom.js";

function editor(gateway, agent, area) {
  const body = h("div", { class: "stack" }, notice("Loading files…"));
  replace(area, h("h2", {}, `Context files of ${agent.agent_key}`), body);
  guarded(body, async () => {
    const data = await gateway.call("agents.files.list", { agentId: agent.agent_key });
    const files = data.files || [];
    const text = h("textarea", { rows: 12, name: "content", "aria-label": "File content" });
    const name = h("select", { name: "file", "aria-label": "File" }, files.map((f) => h("option", { value: f.name }, f.missing ? `${f.name} (missing)` : f.name)));
    const status = h("div", { "aria-live": "polite" });
    const open = async () => {
      const got = await gateway.call("agents.files.get", { agentId: agent.agent_key, name: name.value });
      text.value = got.file?.content || "";
    };
    name.addEventListener("change", () => open().catch((e) => replace(status, notice(e.message, "error"))));
    const save = h(
      "button",
      {
        class: "primary",
        type: "button",
        onclick: async () => {
          try {
            await gateway.call("agents.files.set", { agentId: agent.agent_key, name: name.value, content: text.value });
            replace(status, notice(`Saved ${name.value}.`, "ok"));
          } catch (e) {
            replace(status, notice(e.message, "error"));
          }
        },
      },
      "Save file",
    );
    replace(body, field("File", name), field("Content", text), h("div", { class: "actions" }, save), status);
    if (files.length) await open();
  });
}

export async function render({ gateway, hello }, main) {
  const admin = hello.role === "admin" || hello.role === "owner";
  const body = h("div", { class: "stack" }, notice("Loading…"));
  const files = h("section", { class: "stack" });
  const status = h("div", { "aria-live": "polite" });
  replace(main, heading("Agents"), status, body, files);

  const load = () =>
    guarded(body, async () => {
      const data = await gateway.http("GET", "/v1/agents");
      const agents = data?.agents || [];
      const rows = table(
        [
          ["Key", (a) => h("code", {}, a.agent_key)],
          ["Name", (a) => a.display_name || "—"],
          ["Model", (a) => `${a.provider || "—"} / ${a.model || "—"}`],
          ["Status", (a) => pill(a.status, a.status === "active" ? "ok" : "warn")],
          ["", (a) => (a.is_default ? pill("default") : "")],
          [
            "Actions",
            (a) =>
              h(
                "div",
                { class: "actions" },
                h("button", { type: "button", onclick: () => editor(gateway, a, files) }, "Files"),
                admin ? h("button", { type: "button", onclick: () => edit(a) }, "Edit") : null,
                admin
                  ? h(
                      "button",
                      {
                        type: "button",
                        class: "danger",
                        onclick: async () => {
                          if (!confirm(`Delete agent ${a.agent_key}?`)) return;
                          try {
                            await gateway.http("DELETE", `/v1/agents/${encodeURIComponent(a.id)}`);
                            replace(status, notice(`Deleted ${a.agent_key}.`, "ok"));
                            load();
                          } catch (e) {
                            replace(status, notice(e.message, "error"));
                          }
                        },
                      },
                      "Delete",
                    )
                  : null,
              ),
          ],
        ],
        agents,
        "No agents yet.",
      );
      replace(body, rows, admin ? createForm() : null);
    });

  const edit = (agent) => {
    const name = h("input", { name: "display_name", value: agent.display_name || "", autocomplete: "off" });
    const provider = h("input", { name: "provider", value: agent.provider || "", autocomplete: "off" });
    const model = h("input", { name: "model", value: agent.model || "", autocomplete: "off" });
    const state = h("select", { name: "status" }, ["active", "inactive"].map((s) => h("option", { value: s, selected: agent.status === s }, s)));
    replace(
      files,
      h(
        "form",
        {
          class: "card",
          onsubmit: async (event) => {
            event.preventDefault();
            const body = { display_name: name.value.trim(), provider: provider.value.trim(), model: model.value.trim(), status: state.value };
            try {
              await gateway.http("PUT", `/v1/agents/${encodeURIComponent(agent.id)}`, body);
              replace(status, notice(`Saved ${agent.agent_key}.`, "ok"));
              replace(files);
              load();
            } catch (e) {
              replace(status, notice(e.message, "error"));
            }
          },
        },
        h("h2", {}, `Edit ${agent.agent_key}`),
        h("div", { class: "grid" }, field("Name", name), field("Provider", provider), field("Model", model), field("Status", state)),
        h("button", { class: "primary", type: "submit" }, "Save agent"),
      ),
    );
  };

  const createForm = () => {
    const key = h("input", { name: "agent_key", required: true, pattern: "[a-z0-9][a-z0-9_\\-]*", autocomplete: "off" });
    const name = h("input", { name: "display_name", autocomplete: "off" });
    const provider = h("input", { name: "provider", placeholder: "anthropic", autocomplete: "off" });
    const model = h("input", { name: "model", autocomplete: "off" });
    return h(
      "form",
      {
        class: "card",
        onsubmit: async (event) => {
          event.preventDefault();
          const body = { agent_key: key.value.trim(), display_name: name.value.trim() || undefined, provider: provider.value.trim() || undefined, model: model.value.trim() || undefined };
          try {
            await gateway.http("POST", "/v1/agents", body);
            replace(status, notice(`Created ${body.agent_key}.`, "ok"));
            load();
          } catch (e) {
            replace(status, notice(e.message, "error"));
          }
        },
      },
      h("h2", {}, "New agent"),
      h("div", { class: "grid" }, field("Key", key), field("Name", name), field("Provider", provider), field("Model", model)),
      h("button", { class: "primary", type: "submit" }, "Create agent"),
    );
  };
  await load();
}
