// Contact thread: everything exchanged with one contact, in time order, with delivery statuses.

import { badge, el, route, show, when } from "./dom.js";

export async function renderThread(main, ctx, account, contact) {
  ctx.setAccount(account);
  const list = el("ol", { className: "thread", "aria-label": `messages with ${contact}` });
  const optedOut = el("p", { hidden: true }, badge("opted-out"), " This contact opted out: nothing is sent to them.");
  let signature = "";

  async function load() {
    const data = await ctx.api.get(["accounts", account, "contacts", contact, "thread"]);
    const items = Array.isArray(data.items) ? data.items : [];
    optedOut.hidden = data.opted_out !== true;
    const next = items.map((m) => `${m.sid}:${m.status}`).join(",");
    if (next === signature) return;
    const grew = signature !== "" && items.length > signature.split(",").length;
    signature = next;
    show(list, items.length ? items.map((m) => threadItem(account, m)) : el("li", {}, "Nothing exchanged yet."));
    if (grew) ctx.say("New messages in this thread.");
  }

  show(
    main,
    el("p", {}, el("a", { href: route("inbox", account) }, "← Inbox")),
    el("h1", { tabindex: "-1" }, "Thread with ", String(contact)),
    optedOut,
    list,
  );
  await load();
  return { refresh: load };
}

function threadItem(account, message) {
  const direction = message.direction === "outbound" ? "outbound" : "inbound";
  return el(
    "li",
    { className: direction },
    typeof message.body === "string"
      ? el("p", { className: "body" }, message.body)
      : el("p", { className: "body muted" }, "(text not kept)"),
    el(
      "div",
      { className: "meta" },
      el("time", { datetime: String(message.at ?? "") }, when(message.at)),
      " ",
      message.kind && message.kind !== "message" ? el("span", {}, `${String(message.kind).replace(/_/g, " ")} `) : null,
      message.status ? badge(message.status) : null,
      " ",
      message.sid ? el("a", { href: route("message", account, message.sid) }, "Details") : null,
    ),
  );
}
