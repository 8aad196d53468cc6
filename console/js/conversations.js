// Conversations: an account's conversations waiting for a reply — contact, trigger, deadline,
// reminders, attempts — newest first; "Also ended ones" shows how each ended. An operator (or
// admin) may cancel a waiting one, after a confirmation; the API refuses anyone else anyway.

import { accountPicker, badge, confirmStep, el, pager, route, show, when } from "./dom.js";

const PAGE_SIZE = 25;

export async function renderConversations(main, ctx, account, query) {
  const accounts = await ctx.accounts();
  if (accounts.length === 0) {
    show(main, el("h1", { tabindex: "-1" }, "Conversations"), el("p", {}, "No account is visible to you."));
    return {};
  }
  const current = accounts.find((a) => a.name === account) || accounts[0];
  ctx.setAccount(current.name);
  const all = query.state === "all";
  const mayCancel = await ctx.may("operator");
  const list = el("ul", { className: "conversations", "aria-label": "conversations" });
  let waitingShown = null; // the ids on screen that were waiting
  const pages = pager({
    fetch: (cursor) =>
      ctx.api.get(["accounts", current.name, "conversations"], { state: all ? "all" : undefined, cursor, limit: PAGE_SIZE }),
    signature: (items) => items.map((c) => `${c.id}:${c.status}:${c.attempts}`).join(","),
    render: (items, { next }) => {
      const waiting = new Set(items.filter((c) => c.status === "waiting").map((c) => String(c.id)));
      const ended = waitingShown ? [...waitingShown].filter((id) => !waiting.has(id)).length : 0;
      waitingShown = waiting;
      const empty = next ? "None on this page: see Older." : all ? "No conversations." : "No conversation is waiting.";
      show(list, items.length ? items.map((c) => conversationItem(c)) : el("li", {}, empty));
      if (ended > 0) ctx.say(`${ended} conversation${ended === 1 ? "" : "s"} ended.`);
    },
    guard: (action) => ctx.guard(action),
  });

  function conversationItem(conversation) {
    const waiting = conversation.status === "waiting";
    const reminders = Array.isArray(conversation.reminders) ? conversation.reminders : [];
    return el(
      "li",
      { "data-id": String(conversation.id ?? "") },
      el(
        "div",
        { className: "head" },
        el("span", {}, "With ", el("a", { href: route("thread", current.name, conversation.contact) }, String(conversation.contact ?? ""))),
        el("span", {}, "trigger ", el("strong", {}, String(conversation.trigger ?? ""))),
        badge(conversation.status),
      ),
      conversation.prompt ? el("p", { className: "body" }, String(conversation.prompt)) : null,
      el(
        "dl",
        { className: "params" },
        el("dt", {}, "Started"),
        el("dd", {}, el("time", { datetime: String(conversation.started_at ?? "") }, when(conversation.started_at))),
        el("dt", {}, waiting ? "Deadline" : "Ended"),
        el("dd", {}, el("time", {}, when(waiting ? conversation.deadline : conversation.resolved_at))),
        el("dt", {}, "Answers"),
        el("dd", {}, `${Number(conversation.attempts) || 0} of at most ${Number(conversation.max_attempts) || 0}`),
        reminders.length ? el("dt", {}, "Reminders") : null,
        reminders.length ? el("dd", {}, reminders.map((r) => el("div", {}, `${when(r.at)}: ${String(r.text ?? "")}`))) : null,
      ),
      waiting && mayCancel ? cancelControl(conversation) : null,
    );
  }

  function cancelControl(conversation) {
    const ask = el("button", { type: "button", className: "secondary" }, "Cancel conversation");
    const confirm = el("button", { type: "button" }, "Yes, cancel it");
    const keep = el("button", { type: "button", className: "secondary" }, "Keep it");
    const cancel = () => ctx.act(confirm, async () => {
      await ctx.api.post(["accounts", current.name, "conversations", "cancel"], { id: conversation.id });
      ctx.say(`Conversation with ${conversation.contact} cancelled.`);
    }, {
      expected: [409],
      after: () => {
        waitingShown = null; // said above: not "1 conversation ended" again
        return pages.reload();
      },
    });
    const question = "Cancel: its execution ends, nothing more is sent.";
    return confirmStep(ask, question, confirm, keep, cancel, el("div", { className: "actions" }));
  }

  const toggle = el("input", { id: "show-ended", type: "checkbox", checked: all });
  toggle.addEventListener("change", () => {
    location.hash = route("conversations", current.name) + (toggle.checked ? "?state=all" : "");
  });

  show(
    main,
    el("h1", { tabindex: "-1" }, "Conversations"),
    accountPicker(accounts, current.name, (name) => (location.hash = route("conversations", name) + (all ? "?state=all" : ""))),
    el("p", {}, el("label", { for: "show-ended", className: "inline" }, toggle, " Also the ended ones")),
    list,
    pages.node,
  );
  await pages.load();
  return { refresh: () => pages.refresh() };
}
