// Building the page from data: every string becomes a text node (never parsed as HTML).

/** An element with attributes and children; a string child is text, null/false are skipped. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace a container's content with the given children. */
export function show(container, ...children) {
  container.replaceChildren();
  append(container, children);
}

/** A hash link inside the console: each path segment is URL-encoded. */
export function route(...segments) {
  return "#/" + segments.map((s) => encodeURIComponent(String(s))).join("/");
}

/** A timestamp for people: the browser's local time, or the raw value if it is not a date. */
export function when(value) {
  if (typeof value !== "string" && typeof value !== "number") return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** A status badge; its class is a fixed word derived from the status, never the raw value. */
export function badge(text) {
  const word = String(text ?? "").toLowerCase();
  const known = ["failed", "undelivered", "delivered", "succeeded", "done", "opted-out"];
  return el("span", { className: known.includes(word) ? `badge ${word}` : "badge" }, String(text ?? ""));
}

/**
 * A data table in its scrolling wrapper: a caption (visually hidden, the page's heading says it
 * already; null for none), the column heads (null ones left out) and the rows (<tr>s, or the
 * <tbody> a page fills later). `attributes` go on the <table> (a class, an aria-label).
 */
export function dataTable(caption, heads, rows, attributes = {}) {
  return el(
    "div",
    { className: "table-wrap" },
    el(
      "table",
      attributes,
      caption === null ? null : el("caption", { className: "skip" }, caption),
      el("thead", {}, el("tr", {}, heads.filter((h) => h !== null).map((h) => el("th", { scope: "col" }, h)))),
      rows instanceof Node ? rows : el("tbody", {}, rows),
    ),
  );
}

/**
 * A change asked for twice. `ask` (a button) opens the question in its place: `question` (a
 * string, or a function giving it at that moment) and the buttons `yes` and `no`, the focus on
 * yes; `no` puts ask back, the focus on it; `yes` calls onYes(). Returns `host`, which holds them
 * (the class "confirm" while the question shows).
 */
export function confirmStep(ask, question, yes, no, onYes, host = el("span", {})) {
  const idle = () => {
    host.classList.remove("confirm");
    show(host, ask);
  };
  ask.addEventListener("click", () => {
    host.classList.add("confirm");
    show(host, typeof question === "function" ? question() : question, " ", yes, " ", no);
    yes.focus();
  });
  no.addEventListener("click", () => {
    idle();
    ask.focus();
  });
  yes.addEventListener("click", () => onYes());
  idle();
  return host;
}

/** The account picker of a page: changing it calls onChange with the account's name. */
export function accountPicker(accounts, current, onChange) {
  const picker = el(
    "select",
    { id: "account", name: "account" },
    accounts.map((a) => el("option", { value: a.name, selected: a.name === current }, a.label || a.name)),
  );
  picker.addEventListener("change", () => onChange(picker.value));
  return el("p", { className: "picker" }, el("label", { for: "account" }, "Account", picker));
}

/**
 * Newest-first paging through an API list answered in pages ({items, next_cursor}): "Older"
 * follows next_cursor, "Newest" goes back to the first page; only the first page stays live.
 *   fetch(cursor): the API's answer for a page (cursor undefined: the first);
 *   render(items, {next, live}): draws a page (next: the cursor of the older one, or null;
 *     live: a refresh of the newest page rather than a click);
 *   signature(items), optional: an answer whose signature is the one on screen is not drawn again;
 *   guard(action): runs a click's action (ctx.guard: a failure is said); focus(): after a click.
 * Returns {node: the buttons, load(): the first page, refresh(): the first page again if it is
 * on screen, reload(): the page on screen, drawn again}.
 */
export function pager({ fetch, render, signature = null, guard = (action) => action(), focus = () => {} }) {
  const older = el("button", { type: "button", className: "secondary", hidden: true }, "Older");
  const newest = el("button", { type: "button", className: "secondary", hidden: true }, "Newest");
  const page = { cursors: [], next: null, signature: null };

  async function load(cursor, live = false) {
    const data = await fetch(cursor);
    const items = Array.isArray(data?.items) ? data.items : [];
    page.next = typeof data?.next_cursor === "string" && data.next_cursor ? data.next_cursor : null;
    older.hidden = page.next === null;
    newest.hidden = page.cursors.length === 0;
    const mark = signature ? signature(items) : null;
    if (mark !== null && mark === page.signature) return;
    page.signature = mark;
    render(items, { next: page.next, live });
  }

  older.addEventListener("click", () => guard(async () => {
    page.cursors.push(page.next);
    await load(page.next);
    focus();
  }));
  newest.addEventListener("click", () => guard(async () => {
    page.cursors = [];
    await load(undefined);
    focus();
  }));
  return {
    node: el("div", { className: "pager" }, newest, older),
    load: () => {
      page.cursors = [];
      return load(undefined);
    },
    refresh: () => (page.cursors.length === 0 ? load(undefined, true) : undefined),
    reload: () => {
      page.signature = null;
      return load(page.cursors[page.cursors.length - 1]);
    },
  };
}
