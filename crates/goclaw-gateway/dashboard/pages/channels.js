// Channels and pairing: each messaging channel's state, senders waiting for a pairing code to
// be approved (live), and the paired senders and browsers.

import { h, heading, table, replace, notice, when, pill, guarded, act } from "../dom.js";

export async function render({ gateway }, main) {
  const channels = h("div", { class: "stack" }, notice("Loading…"));
  const pairing = h("div", { class: "stack", "aria-live": "polite" }, notice("Loading…"));
  const status = h("div", { "aria-live": "polite" });
  replace(main, heading("Channels & pairing"), status, h("h2", {}, "Channels"), channels, h("h2", {}, "Pairing"), pairing);

  const call = (method, params, done) => act(status, () => gateway.call(method, params), done, loadPairing);
  const loadChannels = () =>
    guarded(channels, async () => {
      const data = await gateway.call("channels.status");
      const rows = Object.entries(data.channels || {}).map(([name, c]) => ({ name, ...c }));
      replace(
        channels,
        table(
          [
            ["Channel", (c) => c.name],
            ["Type", (c) => c.type],
            ["State", (c) => pill(c.state, c.running ? "ok" : "warn")],
            ["Reason", (c) => c.reason || ""],
          ],
          rows,
          "No channels are configured.",
        ),
      );
    });
  const loadPairing = () =>
    guarded(pairing, async () => {
      const data = await gateway.call("device.pair.list");
      replace(
        pairing,
        h("h3", {}, "Waiting"),
        table(
          [
            ["Code", (p) => h("code", {}, p.code)],
            ["Sender", (p) => p.sender_id],
            ["Channel", (p) => p.channel],
            ["Asked", (p) => when(p.created_at)],
            [
              "",
              (p) =>
                h(
                  "div",
                  { class: "actions" },
                  h("button", { class: "primary", type: "button", onclick: () => call("device.pair.approve", { code: p.code }, `Paired ${p.sender_id}.`) }, "Approve"),
                  h("button", { class: "danger", type: "button", onclick: () => call("device.pair.deny", { code: p.code }, "Denied.") }, "Deny"),
                ),
            ],
          ],
          data.pending || [],
          "No pairing requests.",
        ),
        h("h3", {}, "Paired"),
        table(
          [
            ["Sender", (p) => p.sender_id],
            ["Channel", (p) => p.channel],
            ["Since", (p) => when(p.paired_at)],
            ["By", (p) => p.paired_by || "—"],
            [
              "",
              (p) =>
                h(
                  "button",
                  { class: "danger", type: "button", onclick: () => confirm(`Unpair ${p.sender_id}?`) && call("device.pair.revoke", { senderId: p.sender_id, channel: p.channel }, "Unpaired.") },
                  "Revoke",
                ),
            ],
          ],
          data.paired || [],
          "Nothing paired yet.",
        ),
      );
    });
  await Promise.all([loadChannels(), loadPairing()]);
  const offRequested = gateway.on("device.pair.requested", () => loadPairing());
  const offResolved = gateway.on("device.pair.resolved", () => loadPairing());
  return () => {
    offRequested();
    offResolved();
  };
}
