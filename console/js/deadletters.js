// Dead letters: the stream batches the trigger processor gave up on (what
// `sms-automation dead-letters list` lists), each with the messages it covers; an operator (or
// admin) may redrive one: its messages are replayed through the processor, and the entry is
// deleted when all of them processed. A user sees only the entries of their accounts.
// Not polled: listing hides each entry from others for a moment (SQS), so it is read on demand.

import { badge, el, route, show, when } from "./dom.js";

export async function renderDeadLetters(main, ctx) {
  const mayRedrive = await ctx.may("operator");
  const list = el("ul", { className: "conversations", "aria-label": "dead letters" });
  const reload = el("button", { type: "button", className: "secondary" }, "Refresh");
  const note = el("p", { className: "muted", hidden: true }, "Only the first 100 entries are listed.");

  async function load() {
    const data = await ctx.api.get(["dead-letters"]);
    const items = Array.isArray(data.items) ? data.items : [];
    const held = Number.isInteger(data.in_flight) && data.in_flight > 0 ? data.in_flight : 0;
    note.textContent = held
      ? `${held} more ${held === 1 ? "entry is" : "entries are"} being read or redriven by someone else right now: Refresh in a moment.`
      : "Only the first 100 entries are listed.";
    note.hidden = data.complete !== false;
    show(list, items.length ? items.map(entryItem) : el("li", {}, "No dead letters: every batch was processed."));
  }

  function entryItem(entry) {
    const messages = Array.isArray(entry.messages) ? entry.messages : [];
    return el(
      "li",
      { "data-entry": String(entry.entry ?? "") },
      el(
        "div",
        { className: "head" },
        el("span", {}, "Entry ", el("code", {}, String(entry.entry ?? ""))),
        entry.failed_at ? el("time", { datetime: String(entry.failed_at) }, when(entry.failed_at)) : null,
        entry.stream ? badge(entry.stream) : null,
      ),
      entry.malformed
        ? el("p", {}, `Malformed: ${String(entry.malformed)}`)
        : el(
            "p",
            {},
            `${String(entry.condition ?? "")} after ${Number(entry.attempts) || 0} attempt(s)`,
            entry.function_error ? `, function error ${String(entry.function_error)}` : "",
            `; ${Number(entry.batch_size) || 0} record(s).`,
          ),
      entry.stream_detail ? el("p", { className: "muted" }, String(entry.stream_detail)) : null,
      messages.length
        ? el(
            "ul",
            { "aria-label": "its messages" },
            messages.map((m) =>
              el(
                "li",
                {},
                m.account ? el("a", { href: route("message", m.account, m.message_sid) }, String(m.message_sid)) : String(m.message_sid),
                ` ${m.account ? String(m.account) : "(account unknown)"}`,
              ),
            ),
          )
        : null,
      mayRedrive ? redriveControl(entry) : null,
    );
  }

  function redriveControl(entry) {
    const box = el("div", { className: "actions" });
    const button = el("button", { type: "button", className: "secondary" }, "Redrive");
    button.addEventListener("click", () => ctx.act(button, async () => {
      const report = await ctx.api.post(["dead-letters", "redrive"], { entry: entry.entry });
      const outcomes = (Array.isArray(report.messages) ? report.messages : []).map((m) => `${m.message_sid}: ${String(m.outcome).replace(/_/g, " ")}`);
      ctx.say(report.deleted ? `Entry redriven and deleted. ${outcomes.join("; ")}` : `Entry kept: ${String(report.kept_because ?? "")}. ${outcomes.join("; ")}`);
    }, { expected: [409, 404], after: load }));
    show(box, button);
    return box;
  }

  reload.addEventListener("click", () => ctx.guard(load));
  show(
    main,
    el("h1", { tabindex: "-1" }, "Dead letters"),
    el("p", {}, "Batches the trigger processor gave up on. A redrive replays their messages; a message is never processed twice."),
    el("p", {}, reload),
    note,
    list,
  );
  await load();
  return {}; // no polling (see above)
}
