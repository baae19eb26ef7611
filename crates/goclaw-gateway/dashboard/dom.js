// Small DOM helpers: elements are built with `h`, text is always set as text (never parsed as
// HTML), so nothing a server or a model returns can inject markup.

/** Creates an element: `h("button", {class: "primary", onclick}, "Save")`. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value") {
      el.value = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children: nodes, strings (as text), arrays, skipping null and false. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's content. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A table with a header row; `columns` are `[title, row => cell]`. */
export function table(columns, rows, empty = "Nothing here yet.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", { scope: "col" }, title)))),
      h(
        "tbody",
        {},
        rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row))))),
      ),
    ),
  );
}

/** A page's heading with optional actions on the right. */
export function heading(title, ...actions) {
  return h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, title), h("div", { class: "actions" }, actions));
}

/** A message box: kind is "error", "ok" or "info". */
export function notice(text, kind = "info") {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A labelled form field. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("small", {}, hint) : null);
}

/** A time (ISO text or epoch milliseconds) in the reader's locale; "—" when missing. */
export function when(value) {
  if (value === undefined || value === null || value === "") return "—";
  const date = typeof value === "number" ? new Date(value) : new Date(String(value));
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** Pretty JSON for display. */
export function pretty(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

/** A status pill. */
export function pill(text, kind = "") {
  return h("span", { class: `pill ${kind}` }, text);
}

/** Runs `work` and shows its error in `where` instead of throwing. */
export async function guarded(where, work) {
  try {
    return await work();
  } catch (error) {
    replace(where, notice(error.message || String(error), "error"));
    return undefined;
  }
}

/** Runs `work`; then says `done` in `status` and calls `after`, or shows the error there. */
export async function act(status, work, done, after) {
  try {
    await work();
    replace(status, notice(done, "ok"));
    if (after) after();
  } catch (error) {
    replace(status, notice(error.message || String(error), "error"));
  }
}
