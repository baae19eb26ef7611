// The dashboard's connection to the gateway it was served from: WebSocket protocol v3 for
// methods and pushed events, and the `/v1` HTTP API, both with the signed-in caller's own
// credentials. Nothing here talks to any other host.

const PROTOCOL = 3;
const STORE_KEY = "goclaw.dashboard.credentials";

/** The credentials kept for this tab (or across restarts when the user asked to be remembered). */
export const credentials = {
  load() {
    const text = sessionStorage.getItem(STORE_KEY) || localStorage.getItem(STORE_KEY);
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  },
  save(value, remember) {
    const text = JSON.stringify(value);
    sessionStorage.setItem(STORE_KEY, text);
    if (remember) localStorage.setItem(STORE_KEY, text);
    else localStorage.removeItem(STORE_KEY);
  },
  clear() {
    sessionStorage.removeItem(STORE_KEY);
    localStorage.removeItem(STORE_KEY);
  },
};

/** An error answered by the gateway: `code` as GoClaw names it, `status` for HTTP. */
export class GatewayError extends Error {
  constructor(message, code = "INTERNAL", status = 0) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/** Opens a socket and sends `connect`; resolves with the socket and the hello payload. */
function open(params) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(socketUrl());
    let settled = false;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ type: "req", id: "connect", method: "connect", params: { ...params, protocolVersion: PROTOCOL } }));
    });
    socket.addEventListener("message", (message) => {
      if (settled) return;
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.type !== "res" || frame.id !== "connect") return;
      settled = true;
      if (frame.ok) resolve({ socket, hello: frame.payload || {} });
      else {
        socket.close();
        reject(new GatewayError(frame.error?.message || "connection refused", frame.error?.code));
      }
    });
    socket.addEventListener("close", () => {
      if (!settled) {
        settled = true;
        reject(new GatewayError("the gateway closed the connection", "UNAVAILABLE"));
      }
    });
  });
}

/** The signed-in caller's link to the gateway. */
export class Gateway {
  constructor(creds) {
    this.creds = creds;
    this.hello = null;
    this.socket = null;
    this.pending = new Map();
    this.listeners = new Map();
    this.nextId = 1;
    this.closed = false;
    this.retryDelay = 2000;
  }

  /** Connects; rejects when the gateway refuses the credentials. */
  async connect() {
    const { socket, hello } = await open({
      token: this.creds.token || "",
      user_id: this.creds.userId || "",
      sender_id: this.creds.senderId || "",
      tenant_id: this.creds.tenant || "",
      locale: navigator.language || "en",
    });
    this.hello = hello;
    this.attach(socket);
    this.emit("connection", { up: true });
    return hello;
  }

  attach(socket) {
    this.socket = socket;
    this.retryDelay = 2000;
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", () => {
      for (const { reject, timer } of this.pending.values()) {
        clearTimeout(timer);
        reject(new GatewayError("connection lost", "UNAVAILABLE"));
      }
      this.pending.clear();
      this.socket = null;
      if (this.closed) return;
      this.emit("connection", { up: false });
      setTimeout(() => this.reconnect(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 30000);
    });
  }

  async reconnect() {
    if (this.closed) return;
    try {
      await this.connect();
    } catch (error) {
      if (error.code === "UNAUTHORIZED" || error.code === "TENANT_ACCESS_REVOKED") {
        this.emit("signed-out", { reason: error.message });
        return;
      }
      setTimeout(() => this.reconnect(), this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 30000);
    }
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "res") {
      const waiting = this.pending.get(frame.id);
      if (!waiting) return;
      this.pending.delete(frame.id);
      clearTimeout(waiting.timer);
      if (frame.ok) waiting.resolve(frame.payload ?? {});
      else waiting.reject(new GatewayError(frame.error?.message || "request failed", frame.error?.code));
    } else if (frame.type === "event") {
      this.emit(frame.event, frame.payload ?? {});
      this.emit("*", frame);
    }
  }

  /** Calls a WebSocket method; resolves with its payload. */
  call(method, params = {}, timeoutMs = 30000) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new GatewayError("not connected to the gateway", "UNAVAILABLE"));
    }
    const id = `d${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayError(`${method} timed out`, "AGENT_TIMEOUT"));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }

  /** Subscribes to a pushed event (or "*" for every frame); returns the unsubscribe function. */
  on(event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(listener);
    return () => this.listeners.get(event)?.delete(listener);
  }

  emit(event, payload) {
    for (const listener of this.listeners.get(event) || []) {
      try {
        listener(payload);
      } catch (error) {
        console.error(error);
      }
    }
  }

  /** Calls the HTTP API; resolves with the JSON answer (or null for an empty one). */
  async http(method, path, body) {
    const headers = { Accept: "application/json" };
    if (this.creds.token) headers.Authorization = `Bearer ${this.creds.token}`;
    if (this.creds.userId) headers["X-GoClaw-User-Id"] = this.creds.userId;
    if (this.creds.senderId) headers["X-GoClaw-Sender-Id"] = this.creds.senderId;
    if (this.creds.tenant) headers["X-GoClaw-Tenant-Id"] = this.creds.tenant;
    const init = { method, headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    if (!response.ok) {
      const error = data?.error;
      const message = (typeof error === "string" ? error : error?.message) || data?.message || `${response.status} ${response.statusText}`;
      const code = error?.code || data?.code || "";
      if (response.status === 401) this.emit("signed-out", { reason: message });
      throw new GatewayError(message, code, response.status);
    }
    return data;
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }
}

/**
 * Browser pairing: connects without credentials and reports the code an administrator must
 * approve; resolves with the sender id once approved (polling every 3 s), rejects if refused.
 */
export async function pairBrowser(userId, onCode, signal) {
  const { socket, hello } = await open({ user_id: userId || "" });
  if (hello.status !== "pending_pairing") {
    socket.close();
    throw new GatewayError("this gateway did not offer pairing", "UNAVAILABLE");
  }
  onCode(hello.pairing_code);
  const senderId = hello.sender_id;
  let next = 1;
  const ask = () =>
    new Promise((resolve, reject) => {
      const id = `p${next++}`;
      const onMessage = (message) => {
        let frame;
        try {
          frame = JSON.parse(message.data);
        } catch {
          return;
        }
        if (frame.type !== "res" || frame.id !== id) return;
        socket.removeEventListener("message", onMessage);
        if (frame.ok) resolve(frame.payload || {});
        else reject(new GatewayError(frame.error?.message || "pairing failed", frame.error?.code));
      };
      socket.addEventListener("message", onMessage);
      socket.send(JSON.stringify({ type: "req", id, method: "browser.pairing.status", params: { sender_id: senderId } }));
    });
  try {
    for (;;) {
      if (signal?.aborted) throw new GatewayError("pairing cancelled", "INVALID_REQUEST");
      const status = await ask();
      if (status.status === "approved") return senderId;
      if (status.status && status.status !== "pending") throw new GatewayError(`pairing ${status.status}`, "UNAUTHORIZED");
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  } finally {
    socket.close();
  }
}
