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
