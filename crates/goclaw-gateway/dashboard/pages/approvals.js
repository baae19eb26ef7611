// Approvals: commands waiting for a person, live as they are asked for and resolved, with
// approve once, approve always and deny.

import { h, heading, replace, notice, when, guarded } from "../dom.js";

export async function render({ gateway }, main) {
  const list = h("div", { class: "stack", "aria-live": "polite" }, notice("Loading…"));
  const status = h("div", { "aria-live": "polite" });
  replace(main, heading("Approvals"), status, list);
  const pending = new Map();

  const decide = async (id, method, params, done) => {
    try {
      await gateway.call(method, { id, ...params });
      pending.delete(id);
      replace(status, notice(done, "ok"));
      draw();
    } catch (e) {
      replace(status, notice(e.message, "error"));
    }
  };
  const draw = () => {
    if (!pending.size) {
      replace(list, h("p", { class: "empty" }, "Nothing is waiting for approval."));
      return;
    }
    replace(
      list,
      [...pending.values()].map((a) =>
        h(
          "article",
          { class: "card approval", dataset: { id: a.id } },
          h("h2", {}, h("code", {}, a.command)),
          h("p", {}, `Agent ${a.agentId || "—"} · asked ${when(a.createdAt)}`),
          a.sessionKey ? h("p", {}, h("small", {}, a.sessionKey)) : null,
          h(
            "div",
            { class: "actions" },
            h("button", { class: "primary", type: "button", onclick: () => decide(a.id, "exec.approval.approve", {}, "Approved once.") }, "Approve"),
            h("button", { type: "button", onclick: () => decide(a.id, "exec.approval.approve", { always: true }, "Approved always.") }, "Always allow"),
            h("button", { class: "danger", type: "button", onclick: () => decide(a.id, "exec.approval.deny", {}, "Denied.") }, "Deny"),
          ),
        ),
      ),
    );
  };
  const offRequested = gateway.on("exec.approval.requested", (a) => {
    pending.set(a.id, a);
    draw();
  });
  const offResolved = gateway.on("exec.approval.resolved", (a) => {
    pending.delete(a.id);
    draw();
  });
  await guarded(list, async () => {
    const data = await gateway.call("exec.approval.list");
    for (const a of data.pending || []) pending.set(a.id, a);
    draw();
  });
  return () => {
    offRequested();
    offResolved();
  };
}
