// Chat: pick an agent, talk to it with streamed replies, watch its tool calls and their
// results, stop a run, and come back to earlier conversations.

import { h, heading, replace, append, notice, pretty, when } from "../dom.js";

/** The agents the caller may talk to, by key. */
export async function loadAgents(gateway) {
  try {
    const data = await gateway.http("GET", "/v1/agents");
    const list = (data?.agents || []).filter((a) => a.status === "active");
    if (list.length) return list.map((a) => ({ key: a.agent_key, name: a.display_name || a.agent_key, isDefault: a.is_default }));
  } catch {
    // Fall back to the WebSocket list below.
  }
  const data = await gateway.call("agents.list");
  return (data.agents || []).map((a) => ({ key: a.id, name: a.name || a.id }));
}

function agentOfKey(key) {
  const parts = (key || "").split(":");
  return parts[0] === "agent" ? parts[1] : "";
}

function newSessionKey(agent) {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `agent:${agent}:ws:direct:${id}`;
}

function toolBox(name, args) {
  const result = h("pre", { class: "tool-result" }, "…");
  const box = h(
    "details",
    { class: "tool", open: true },
    h("summary", {}, "Tool call ", h("code", {}, name)),
    h("pre", { class: "tool-args" }, pretty(args ?? {})),
    result,
  );
  return { box, result };
}

export async function render({ gateway, navigate }, main, params) {
  const sessionKey = params[0] || "";
  const agents = await loadAgents(gateway);
  const picked = agentOfKey(sessionKey) || agents.find((a) => a.isDefault)?.key || agents[0]?.key || "";
  const picker = h(
    "select",
    { "aria-label": "Agent", name: "agent" },
    agents.map((a) => h("option", { value: a.key, selected: a.key === picked }, a.name === a.key ? a.key : `${a.name} (${a.key})`)),
  );
  const newChat = h("button", { type: "button", onclick: () => navigate(`#/chat/${encodeURIComponent(newSessionKey(picker.value))}`) }, "New chat");
  const list = h("ul", { class: "session-list", "aria-label": "Conversations" });
  const log = h("div", { class: "messages", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  const input = h("textarea", { name: "message", rows: 3, placeholder: "Message…", "aria-label": "Message", required: true });
  const send = h("button", { class: "primary", type: "submit" }, "Send");
  const stop = h("button", { type: "button", hidden: true }, "Stop");
  const state = h("span", { class: "run-state", role: "status" });
  const form = h("form", { class: "composer" }, input, h("div", { class: "actions" }, state, stop, send));
  replace(
    main,
    heading("Chat", picker, newChat),
    h("div", { class: "chat" }, h("nav", { class: "sessions", "aria-label": "Conversations" }, list), h("section", { class: "conversation" }, log, form)),
  );

  const loadSessions = async () => {
    try {
      const data = await gateway.call("sessions.list", { agentId: picker.value, limit: 50 });
      const sessions = (data.sessions || []).sort((a, b) => String(b.updated).localeCompare(String(a.updated)));
      replace(
        list,
        sessions.map((s) =>
          h(
            "li",
            {},
            h(
              "a",
              { href: `#/chat/${encodeURIComponent(s.key)}`, "aria-current": s.key === sessionKey ? "page" : null },
              s.label || s.key.split(":").slice(-1)[0],
              h("small", {}, `${s.messageCount ?? 0} messages · ${when(s.updated)}`),
            ),
          ),
        ),
      );
    } catch (error) {
      replace(list, h("li", {}, notice(error.message, "error")));
    }
  };
  picker.addEventListener("change", () => navigate("#/chat"));
  loadSessions();

  if (!sessionKey) {
    replace(log, notice(agents.length ? "Start a new chat or open an earlier one." : "No agent is available to you.", "info"));
    input.disabled = send.disabled = true;
    if (agents.length) {
      input.disabled = send.disabled = false;
    }
  }

  const bubble = (role, text) => {
    const el = h("div", { class: `msg ${role}` }, h("span", { class: "role" }, role), h("div", { class: "text" }, text || ""));
    append(log, [el]);
    log.scrollTop = log.scrollHeight;
    return el.querySelector(".text");
  };

  const showHistory = async () => {
    if (!sessionKey) return;
    try {
      const data = await gateway.call("chat.history", { agentId: agentOfKey(sessionKey), sessionKey });
      log.replaceChildren();
      const tools = new Map();
      for (const m of data.messages || []) {
        if (m.role === "tool") {
          const t = tools.get(m.tool_call_id);
          if (t) {
            t.result.textContent = pretty(m.content);
            if (m.is_error) t.result.classList.add("error");
          }
          continue;
        }
        if (m.content) bubble(m.role, m.content);
        for (const call of m.tool_calls || []) {
          const t = toolBox(call.function?.name || call.name, call.function?.arguments ?? call.arguments);
          tools.set(call.id, t);
          append(log, [t.box]);
        }
      }
      if (!(data.messages || []).length) replace(log, notice("No messages yet. Say something.", "info"));
    } catch (error) {
      replace(log, notice(error.message, "error"));
    }
  };

  let current = null; // { runId, text, tools }
  const setRunning = (running) => {
    stop.hidden = !running;
    send.disabled = running;
    state.textContent = running ? "Running…" : "";
  };
  const off = gateway.on("agent", (event) => {
    if (event.sessionKey !== sessionKey) return;
    const p = event.payload || {};
    if (event.type === "run.started") {
      current = { runId: event.runId, text: null, tools: new Map() };
      setRunning(true);
      return;
    }
    if (!current) return;
    switch (event.type) {
      case "chunk":
        if (!current.text) current.text = bubble("assistant", "");
        current.text.textContent += p.content || "";
        log.scrollTop = log.scrollHeight;
        break;
      case "tool.call": {
        const t = toolBox(p.name, p.arguments);
        current.tools.set(p.id, t);
        current.text = null;
        append(log, [t.box]);
        break;
      }
      case "tool.result": {
        const t = current.tools.get(p.id);
        if (t) {
          t.result.textContent = pretty(p.result ?? p.content ?? "");
          if (p.is_error) t.result.classList.add("error");
        }
        break;
      }
      case "run.completed":
        if (!current.text && p.content && !current.tools.size) bubble("assistant", p.content);
        current = null;
        setRunning(false);
        loadSessions();
        break;
      case "run.failed":
        append(log, [notice(p.error || "The run failed.", "error")]);
        current = null;
        setRunning(false);
        break;
      case "run.cancelled":
        append(log, [notice("Stopped.", "info")]);
        current = null;
        setRunning(false);
        break;
      default:
        break;
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message) return;
    if (!sessionKey) {
      const key = newSessionKey(picker.value);
      sessionStorage.setItem("goclaw.dashboard.draft", message);
      navigate(`#/chat/${encodeURIComponent(key)}`);
      return;
    }
    input.value = "";
    if (log.querySelector(".notice.info")) log.replaceChildren();
    bubble("user", message);
    setRunning(true);
    try {
      await gateway.call("chat.send", { agentId: agentOfKey(sessionKey), sessionKey, message, stream: true }, 600000);
    } catch (error) {
      append(log, [notice(error.message, "error")]);
    } finally {
      setRunning(false);
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  stop.addEventListener("click", () => gateway.call("chat.abort", { sessionKey }).catch(() => {}));

  await showHistory();
  const draft = sessionStorage.getItem("goclaw.dashboard.draft");
  if (sessionKey && draft) {
    sessionStorage.removeItem("goclaw.dashboard.draft");
    input.value = draft;
    form.requestSubmit();
  }
  input.focus();
  return off;
}
