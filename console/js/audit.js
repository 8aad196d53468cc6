// Audit: who changed what, when, in one account (trigger pushes, cancels, redrives, ...),
// newest first; "Older" pages through it. Read by every role that may see the account.

import { accountPicker, dataTable, el, pager, route, show, when } from "./dom.js";

const PAGE_SIZE = 25;
const UNATTRIBUTED = "*";

export async function renderAudit(main, ctx, account) {
  const accounts = [...(await ctx.accounts())];
  if (accounts.length === 0) {
    show(main, el("h1", { tabindex: "-1" }, "Audit"), el("p", {}, "No account is visible to you."));
    return {};
  }
  // A user with every account also reads what belongs to no one account (a dead letter whose
  // messages are unknown): the record "*".
  if ((await ctx.me()).accounts === null) accounts.push({ name: UNATTRIBUTED, label: "(no one account)" });
  const current = accounts.find((a) => a.name === account) || accounts[0];
  if (current.name !== UNATTRIBUTED) ctx.setAccount(current.name);
  const body = el("tbody", {});
  const pages = pager({
    fetch: (cursor) => ctx.api.get(["audit", current.name], { cursor, limit: PAGE_SIZE }),
    signature: (items) => items.map((e) => String(e.id)).join(","),
    render: (items) =>
      show(body, items.length ? items.map(entryRow) : el("tr", {}, el("td", { colspan: "5" }, "Nothing recorded yet."))),
    guard: (action) => ctx.guard(action),
  });

  show(
    main,
    el("h1", { tabindex: "-1" }, "Audit"),
    accountPicker(accounts, current.name, (name) => (location.hash = route("audit", name))),
    dataTable(null, ["When", "Who", "Action", "Target", "Detail"], body, {
      className: "audit",
      "aria-label": `audit record of ${current.name}`,
    }),
    pages.node,
  );
  await pages.load();
  return { refresh: () => pages.refresh() };
}

function entryRow(entry) {
  const detail = entry.detail && typeof entry.detail === "object" ? Object.entries(entry.detail) : [];
  return el(
    "tr",
    {},
    el("td", {}, el("time", { datetime: String(entry.at ?? "") }, when(entry.at))),
    el("td", {}, String(entry.actor ?? "")),
    el("td", {}, el("code", {}, String(entry.action ?? ""))),
    el("td", {}, String(entry.target ?? "")),
    el("td", {}, detail.map(([key, value]) => el("div", {}, `${key}: ${describe(value)}`))),
  );
}

function describe(value) {
  if (Array.isArray(value)) return value.map((v) => String(v)).join(", ");
  return value === null || value === undefined ? "–" : String(value);
}
