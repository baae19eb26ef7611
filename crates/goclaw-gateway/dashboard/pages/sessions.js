// Sessions: every conversation the caller may see, a preview of its messages, and deleting
// or resetting it.

import { h, heading, table, replace, notice, when, guarded, pretty, act } from "../dom.js";

export async function render({ gateway }, main) {
  const body = h("div", { class: "stack" }, notice("Loading…"));
  const preview = h("section", { class: "stack", "aria-live": "polite" });
  const status = h("div", { "aria-live": "polite" });
  replace(main, heading("Sessions"), status, body, preview);

  const call = (method, key, done) => act(status, () => gateway.call(method, { key }), done, load);
  const show = (key) =>
    guarded(preview, async () => {
      const data = await gateway.call("sessions.preview", { key });
      replace(
        preview,
        h("h2", {}, key),
        (data.messages || []).map((m) => h("div", { class: `msg ${m.role}` }, h("span", { class: "role" }, m.role), h("div", { class: "text" }, pretty(m.content ?? "")))),
      );
    });
  const load = () =>
    guarded(body, async () => {
      const data = await gateway.call("sessions.list", { limit: 100 });
      replace(
        body,
        table(
          [
            ["Session", (s) => h("code", {}, s.key)],
            ["User", (s) => s.userID || "—"],
            ["Messages", (s) => s.messageCount ?? 0],
            ["Tokens", (s) => `${s.inputTokens ?? 0} in / ${s.outputTokens ?? 0} out`],
            ["Updated", (s) => when(s.updated)],
            [
              "Actions",
              (s) =>
                h(
                  "div",
                  { class: "actions" },
                  h("button", { type: "button", onclick: () => show(s.key) }, "Preview"),
                  s.key.includes(":ws:") ? h("a", { class: "button", href: `#/chat/${encodeURIComponent(s.key)}` }, "Open") : null,
                  h("button", { type: "button", onclick: () => call("sessions.reset", s.key, "Session reset.") }, "Reset"),
                  h(
                    "button",
                    {
                      type: "button",
                      class: "danger",
                      onclick: () => confirm(`Delete ${s.key}?`) && call("sessions.delete", s.key, "Session deleted."),
                    },
                    "Delete",
                  ),
                ),
            ],
          ],
          data.sessions || [],
          "No sessions yet.",
        ),
      );
    });
  await load();
}
