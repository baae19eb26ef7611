// Config and doctor: the running configuration (secrets always masked) and the production
// audit (`goclaw doctor --production`), both for the owner.

import { h, heading, table, replace, notice, pill, guarded, pretty } from "../dom.js";

const STATUS_KIND = { pass: "ok", ok: "ok", warn: "warn", fail: "bad", manual: "", unused: "" };

export async function render({ gateway, hello }, main) {
  const config = h("div", { class: "stack" }, notice("Loading…"));
  const doctor = h("div", { class: "stack", "aria-live": "polite" });
  const run = h("button", { type: "button", class: "primary", onclick: () => audit() }, "Run production audit");
  replace(main, heading("Config & doctor"), h("h2", {}, "Configuration"), config, h("h2", {}, "Production audit"), h("div", { class: "actions" }, run), doctor);
  if (hello.role !== "owner") {
    replace(config, notice("Only the owner sees the configuration.", "info"));
    replace(doctor, notice("Only the owner runs the audit.", "info"));
    run.disabled = true;
    return;
  }

  const audit = () =>
    guarded(doctor, async () => {
      replace(doctor, notice("Running the audit…"));
      const report = await gateway.http("GET", "/v1/system/doctor");
      replace(
        doctor,
        report.ok ? notice("No check failed.", "ok") : notice("Some checks failed.", "error"),
        table(
          [
            ["Section", (c) => c.section],
            ["Check", (c) => c.name],
            ["Result", (c) => pill(c.status, STATUS_KIND[c.status] ?? "")],
            ["Detail", (c) => c.detail],
            ["Fix", (c) => c.fix || ""],
          ],
          report.checks || [],
          "No checks.",
        ),
      );
    });

  await guarded(config, async () => {
    const data = await gateway.call("config.get");
    replace(config, h("p", {}, `File: ${data.path || "—"}`), h("pre", { class: "config" }, pretty(data.config ?? {})));
  });
}
