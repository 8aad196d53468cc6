// Message detail: every Twilio parameter, the ThinkAutomation text, the action log.

import { badge, dataTable, el, route, show } from "./dom.js";

export async function renderDetail(main, ctx, account, sid) {
  ctx.setAccount(account);
  const data = await ctx.api.get(["accounts", account, "messages", sid]);
  const parameters = data.parameters && typeof data.parameters === "object" ? data.parameters : {};
  const contact = parameters.From;
  const log = el("div", { id: "action-log" });
  let signature = "";
  const showSteps = (steps) => {
    const next = JSON.stringify(steps);
    if (next === signature) return;
    signature = next;
    show(log, steps.length ? stepTable(steps) : el("p", {}, "No actions ran for this message (yet)."));
  };
  showSteps(stepsOf(data));
  show(
    main,
    el(
      "p",
      {},
      el("a", { href: route("inbox", account) }, "← Inbox"),
      typeof contact === "string" && contact ? [" · ", el("a", { href: route("thread", account, contact) }, "Thread")] : null,
    ),
    el("h1", { tabindex: "-1" }, "Message ", String(data.sid ?? sid)),
    el("h2", {}, "Action log"),
    log,
    el("h2", {}, "ThinkAutomation text"),
    el("pre", { className: "text" }, String(data.text ?? "")),
    el("h2", {}, "Twilio parameters"),
    el(
      "dl",
      { className: "params" },
      Object.keys(parameters)
        .sort()
        .map((key) => [el("dt", {}, key), el("dd", {}, String(parameters[key]))]),
    ),
  );
  return {
    // Live: the action log grows as the triggers run and delivery statuses arrive.
    refresh: async () => showSteps(stepsOf(await ctx.api.get(["accounts", account, "messages", sid]))),
  };
}

function stepsOf(data) {
  return Array.isArray(data.steps) ? data.steps : [];
}

function stepTable(steps) {
  const rows = steps.map((s) =>
    el(
      "tr",
      {},
      el("td", {}, String(s.step ?? "")),
      el("td", {}, badge(s.state ?? "")),
      el("td", {}, String(s.detail ?? "")),
      el("td", {}, String(s.twilio_sid ?? "")),
      el("td", {}, errorLink(s.error_code)),
    ),
  );
  return dataTable("Action log", ["Step", "Outcome", "Detail", "Twilio SID", "Error"], rows);
}

/** Twilio's page for an error code; only a numeric code makes a link (never a URL from data). */
export function errorLink(code) {
  if (code === null || code === undefined || code === "") return "";
  const text = String(code);
  if (!/^\d{1,6}$/.test(text)) return text;
  return el(
    "a",
    { href: `https://www.twilio.com/docs/api/errors/${text}`, target: "_blank", rel: "noopener noreferrer" },
    `${text} (Twilio's explanation)`,
  );
}
