// Inbox: one account's messages, newest first; search, date and channel filters; "Older" pages.

import { badge, el, pager, route, show, when } from "./dom.js";

const FILTERS = ["contact", "number", "text", "since", "until", "channel"];
const PAGE_SIZE = 25;

export async function renderInbox(main, ctx, account, query) {
  const accounts = await ctx.accounts();
  if (accounts.length === 0) {
    show(main, el("h1", { tabindex: "-1" }, "Inbox"), el("p", {}, "No account is visible to you."));
    return {};
  }
  const current = accounts.find((a) => a.name === account) || accounts[0];
  ctx.setAccount(current.name);
  const list = el("ul", { className: "messages", "aria-label": "messages" });
  let shown = new Set(); // the sids on screen
  const pages = pager({
    fetch: (cursor) => ctx.api.get(["accounts", current.name, "messages"], { ...apiFilters(query), cursor, limit: PAGE_SIZE }),
    signature: (items) => items.map((m) => `${m.sid}:${m.status}`).join(","),
    render: (items, { live }) => {
      // Live: only the newest page follows new messages; an older page stays as it was.
      const fresh = live ? items.filter((m) => !shown.has(String(m.sid))).length : 0;
      shown = new Set(items.map((m) => String(m.sid)));
      show(list, items.length ? items.map((m) => messageItem(current.name, m)) : el("li", {}, "No messages."));
      if (fresh > 0) ctx.say(`${fresh} new message${fresh === 1 ? "" : "s"}.`);
    },
    guard: (action) => ctx.guard(action),
    focus: () => list.querySelector("a")?.focus(),
  });

  show(
    main,
    el("h1", { tabindex: "-1" }, "Inbox"),
    filterForm(current.name, accounts, query),
    list,
    pages.node,
  );
  await pages.load();
  return { refresh: () => pages.refresh() };
}

function messageItem(account, message) {
  const contact = message.direction === "inbound" ? message.from : message.to;
  return el(
    "li",
    {},
    el(
      "div",
      { className: "head" },
      el("span", {}, message.direction === "inbound" ? "From " : "To ", el("strong", {}, String(contact ?? ""))),
      el("time", { datetime: String(message.at ?? "") }, when(message.at)),
      message.channel ? el("span", {}, String(message.channel)) : null,
      message.status ? badge(message.status) : null,
    ),
    el("p", { className: "body" }, String(message.body ?? "")),
    el(
      "div",
      { className: "head" },
      el("a", { href: route("message", account, message.sid) }, "Details"),
      contact ? el("a", { href: route("thread", account, contact) }, "Thread") : null,
    ),
  );
}

function filterForm(account, accounts, query) {
  const picker = el(
    "select",
    { id: "account", name: "account" },
    accounts.map((a) => el("option", { value: a.name, selected: a.name === account }, a.name)),
  );
  const field = (name, label, type = "search") =>
    el("label", { for: `filter-${name}` }, label, el("input", { id: `filter-${name}`, name, type, value: query[name] || "" }));
  const channel = el(
    "select",
    { id: "filter-channel", name: "channel" },
    ["", "sms", "whatsapp"].map((c) => el("option", { value: c, selected: (query.channel || "") === c }, c || "any")),
  );
  const form = el(
    "form",
    { className: "filters", role: "search", "aria-label": "filter messages" },
    el("label", { for: "account" }, "Account", picker),
    field("contact", "Contact"),
    field("number", "Our number"),
    field("text", "Text"),
    field("since", "From date", "date"),
    field("until", "To date", "date"),
    el("label", { for: "filter-channel" }, "Channel", channel),
    el("button", { type: "submit" }, "Search"),
  );
  const go = () => {
    const data = new FormData(form);
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const value = String(data.get(name) || "").trim();
      if (value) params.set(name, value);
    }
    const suffix = params.size ? `?${params}` : "";
    location.hash = `${route("inbox", String(data.get("account")))}${suffix}`;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go();
  });
  picker.addEventListener("change", go);
  return form;
}

/** The route's filters as the API takes them: dates become the local day's bounds in UTC. */
export function apiFilters(query) {
  const filters = {};
  for (const name of ["contact", "number", "text", "channel"]) if (query[name]) filters[name] = query[name];
  if (isDate(query.since)) filters.since = new Date(`${query.since}T00:00:00`).toISOString();
  if (isDate(query.until)) filters.until = new Date(`${query.until}T23:59:59.999`).toISOString();
  return filters;
}

function isDate(value) {
  return typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value);
}
