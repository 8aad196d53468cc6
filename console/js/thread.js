// Contact thread: everything exchanged with one contact, in time order, with delivery statuses;
// for operators and admins a reply box and Take over / Hand back (docs/console.md). Each poll
// passes the last answer's cursor (`since`) and merges what changed (`mergeThread`).

import { ApiError, idempotencyKey } from "./api.js";
import { badge, el, route, show, when } from "./dom.js";

export const MAX_REPLY_CHARS = 1600;
const TAKEOVER_MINUTES = [15, 60, 240, 720];
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION = "^{}\\[~]|€\f";

/** SMS segments as Twilio splits them (the same count as sms_automation.segments). */
export function segments(text) {
  const chars = Array.from(text);
  if (chars.every((c) => GSM_BASIC.includes(c) || GSM_EXTENSION.includes(c))) {
    const units = chars.length + chars.filter((c) => GSM_EXTENSION.includes(c)).length;
    return { count: parts(units, 160, 153), encoding: "GSM-7" };
  }
  return { count: parts(text.length, 70, 67), encoding: "UCS-2" }; // UTF-16 code units
}

function parts(units, single, part) {
  if (units === 0) return 0;
  return units <= single ? 1 : Math.ceil(units / part);
}

function seconds(value) {
  const n = Math.max(1, Math.ceil(Number(value) || 1));
  return `${n} second${n === 1 ? "" : "s"}`;
}

/**
 * The thread's entries after an answer of the API (docs/console.md, "Live updates"): a whole
 * answer (`delta` false) replaces them; a delta (only what changed since the cursor) updates
 * its entries in place by `key` and adds the new ones. As the API merges, a conversation's
 * answer wins over the same message's plain inbound entry. `shown`: a Map key → entry.
 */
export function mergeThread(shown, data) {
  const merged = data.delta === true ? new Map(shown) : new Map();
  for (const item of Array.isArray(data.items) ? data.items : []) {
    if (!item || typeof item !== "object") continue;
    const key = String(item.key ?? item.sid ?? "");
    const existing = merged.get(key);
    const plain = item.kind === "message" && item.direction === "inbound";
    if (existing?.kind === "conversation_answer" && plain) continue;
    merged.set(key, item);
  }
  return merged;
}

/** The entries in time order (ties by key), as the API orders a whole thread. */
export function threadOrder(entries) {
  const at = (e) => String(e.at ?? "");
  return [...entries].sort(([ka, a], [kb, b]) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : ka < kb ? -1 : ka > kb ? 1 : 0));
}

export async function renderThread(main, ctx, account, contact) {
  ctx.setAccount(account);
  const [mayWrite, accounts] = await Promise.all([ctx.may("operator"), ctx.accounts()]);
  const numbers = (accounts.find((a) => a.name === account)?.numbers ?? []).map(String);
  const list = el("ol", { className: "thread", "aria-label": `messages with ${contact}` });
  const optedOut = el("p", { hidden: true }, badge("opted-out"), " This contact opted out: nothing is sent to them.");
  const banner = el("p", { className: "takeover", hidden: true, id: "takeover-banner" });
  const controls = mayWrite ? writeControls(ctx, account, contact, numbers, () => load()) : null;
  const path = ["accounts", account, "contacts", contact, "thread"];
  let cursor = null; // the last answer's: the next poll asks only what changed since
  let entries = new Map(); // key → entry, as shown
  const nodes = new Map(); // key → { li, signature }
  let loaded = false;

  async function read() {
    if (cursor === null) return ctx.api.get(path);
    try {
      return await ctx.api.get(path, { since: cursor });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 400) throw error;
      cursor = null; // a cursor the API no longer takes: the whole thread again
      return ctx.api.get(path);
    }
  }

  async function load() {
    const data = await read();
    cursor = typeof data.cursor === "string" ? data.cursor : null;
    optedOut.hidden = data.opted_out !== true;
    showTakeover(banner, data.taken_over);
    controls?.update(data);
    entries = mergeThread(entries, data);
    const grew = draw(threadOrder(entries));
    if (grew && loaded) ctx.say("New messages in this thread.");
    loaded = true;
  }

  /** Each entry's item in order: an unchanged one keeps its node, a changed one is redrawn where
   * it stands, a new one is inserted in its place. Whether any was new. */
  function draw(ordered) {
    if (!ordered.length) {
      nodes.clear();
      show(list, el("li", {}, "Nothing exchanged yet."));
      return false;
    }
    let grew = false;
    const wanted = ordered.map(([key, entry]) => {
      const signature = JSON.stringify(entry);
      const known = nodes.get(key);
      if (known?.signature === signature) return known.li;
      const li = threadItem(account, entry, key);
      if (known) known.li.replaceWith(li);
      else grew = true;
      nodes.set(key, { li, signature });
      return li;
    });
    const keep = new Set(wanted);
    const present = new Set(ordered.map(([key]) => key));
    for (const key of [...nodes.keys()]) if (!present.has(key)) nodes.delete(key);
    for (const child of [...list.children]) if (!keep.has(child)) child.remove();
    wanted.forEach((li, index) => {
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
    });
    return grew;
  }

  show(
    main,
    el("p", {}, el("a", { href: route("inbox", account) }, "← Inbox")),
    el("h1", { tabindex: "-1" }, "Thread with ", String(contact)),
    optedOut,
    banner,
    controls?.takeover ?? null,
    list,
    controls?.reply ?? null,
  );
  await load();
  return { refresh: load };
}

function showTakeover(banner, held) {
  banner.hidden = !held;
  if (!held) return;
  show(
    banner,
    "Taken over by ",
    el("strong", {}, String(held.by ?? "")),
    " since ",
    el("time", { datetime: String(held.since ?? "") }, when(held.since)),
    " (until ",
    el("time", { datetime: String(held.until ?? "") }, when(held.until)),
    "): automatic replies and new conversations for this contact are paused.",
  );
}

/** The operator's controls: Take over / Hand back, and the reply box. */
function writeControls(ctx, account, contact, numbers, reload) {
  const path = ["threads", account, contact];
  let held = null;
  let optedOut = false;

  // --- take over / hand back ---
  const minutes = el(
    "select",
    { id: "takeover-minutes" },
    TAKEOVER_MINUTES.map((m) => el("option", { value: String(m), selected: m === 60 }, m < 60 ? `${m} minutes` : `${m / 60} hour${m > 60 ? "s" : ""}`)),
  );
  const takeOver = el("button", { type: "button", id: "take-over" }, "Take over");
  const handBack = el("button", { type: "button", id: "hand-back", className: "secondary", hidden: true }, "Hand back");
  const takeoverBox = el(
    "div",
    { className: "takeover-controls" },
    el("label", { for: "takeover-minutes" }, "Take over for"),
    minutes,
    takeOver,
    handBack,
  );
  async function act(button, segment, body) {
    button.disabled = true;
    try {
      await ctx.guard(async () => {
        await ctx.api.post([...path, segment], body);
        await reload();
      });
    } finally {
      button.disabled = false;
    }
  }
  takeOver.addEventListener("click", () => act(takeOver, "takeover", { minutes: Number(minutes.value) }));
  handBack.addEventListener("click", () => act(handBack, "handback", {}));

  // --- reply ---
  const text = el("textarea", { id: "reply-text", rows: "3", "aria-describedby": "reply-count" });
  const from = el("select", { id: "reply-from" }, numbers.map((n) => el("option", { value: n }, n)));
  const count = el("p", { id: "reply-count", className: "count", "aria-live": "polite" });
  const send = el("button", { type: "submit", id: "reply-send" }, "Send reply");
  const note = el("p", { id: "reply-status", className: "count", role: "status" });
  const form = el(
    "form",
    { className: "reply", "aria-label": "Reply by hand" },
    el("label", { for: "reply-text" }, "Reply by hand (an SMS from the account's number)"),
    text,
    el("label", { for: "reply-from" }, "From"),
    from,
    count,
    send,
    note,
  );
  // One idempotency key per composed message: a retry of it sends nothing more. Kept (with the
  // text) until the server confirms the send or refuses it for good: never discarded on a 202.
  let key = null;
  let sending = false;
  let pending = false; // a send not confirmed yet: the button checks again, with the same key
  let chosen = false;

  function refresh() {
    const { count: parts, encoding } = segments(text.value);
    const chars = Array.from(text.value).length; // characters as Twilio (and the API) count them
    count.textContent = `${chars} / ${MAX_REPLY_CHARS} characters · ${parts} segment${parts === 1 ? "" : "s"} (${encoding})`;
    count.classList.toggle("over", chars > MAX_REPLY_CHARS);
    send.disabled = sending || optedOut || !text.value.trim() || chars > MAX_REPLY_CHARS;
    send.textContent = pending ? "Check again" : "Send reply";
    text.disabled = sending || pending; // its send is not settled: the text is that message
    from.disabled = sending || pending;
  }
  text.addEventListener("input", () => {
    key = null; // another text: another message
    refresh();
  });
  from.addEventListener("change", () => {
    chosen = true;
    key = null;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    key ??= idempotencyKey();
    sending = true;
    note.textContent = "Sending…";
    refresh();
    try {
      const body = { body: text.value, key };
      if (from.value) body.from = from.value;
      const answer = await ctx.api.post([...path, "reply"], body);
      if (answer.state === "sending" || answer.state === "unknown") {
        // Not confirmed: keep the text and the key; the same request again settles it once.
        pending = true;
        note.textContent = answer.state === "unknown"
          ? `Not confirmed: Twilio's answer was lost. Check again in ${seconds(answer.retry_after)} — it is never sent twice.`
          : `Being sent by another request. Check again in ${seconds(answer.retry_after)}.`;
      } else {
        pending = false;
        note.textContent = answer.state === "failed"
          ? `Not sent: ${answer.detail ?? ""}`
          : `Sent (${answer.segments} segment${answer.segments === 1 ? "" : "s"}).`;
        text.value = "";
        key = null; // settled: the next text is another message
      }
      await reload();
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        await ctx.guard(() => Promise.reject(error));
      }
      const wait = error instanceof ApiError && error.data?.retry_after ? ` Try again in ${seconds(error.data.retry_after)}:` : "";
      note.textContent = error instanceof ApiError && error.status === 409
        ? `Not sent: ${error.message}`
        : `Not sent: ${error.message} —${wait} Send again sends it once.`;
      if (error instanceof ApiError && error.data?.error === "key_reused") key = null;
    } finally {
      sending = false;
      refresh();
    }
  });
  refresh();

  return {
    takeover: takeoverBox,
    reply: form,
    update(data) {
      held = data.taken_over ?? null;
      takeOver.textContent = held ? "Extend" : "Take over";
      handBack.hidden = !held;
      optedOut = data.opted_out === true;
      if (optedOut) note.textContent = "This contact opted out: no reply can be sent.";
      if (typeof data.reply_from === "string" && data.reply_from && !numbers.includes(data.reply_from)) {
        numbers.push(data.reply_from); // a number the account received on since the page loaded
        from.append(el("option", { value: data.reply_from }, data.reply_from));
      }
      if (!chosen && typeof data.reply_from === "string" && numbers.includes(data.reply_from)) {
        from.value = data.reply_from;
      }
      refresh();
    },
  };
}

function threadItem(account, message, key) {
  const direction = message.direction === "outbound" ? "outbound" : "inbound";
  const isReply = message.kind === "console_reply";
  return el(
    "li",
    { className: direction, "data-key": key },
    typeof message.body === "string"
      ? el("p", { className: "body" }, message.body)
      : el("p", { className: "body muted" }, "(text not kept)"),
    el(
      "div",
      { className: "meta" },
      el("time", { datetime: String(message.at ?? "") }, when(message.at)),
      " ",
      isReply ? el("span", {}, `reply by ${String(message.by ?? "")} `) : null,
      !isReply && message.kind && message.kind !== "message" ? el("span", {}, `${String(message.kind).replace(/_/g, " ")} `) : null,
      message.status ? badge(message.status) : null,
      " ",
      message.sid && !isReply ? el("a", { href: route("message", account, message.sid) }, "Details") : null,
    ),
  );
}
