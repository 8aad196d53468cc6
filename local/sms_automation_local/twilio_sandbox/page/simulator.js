// The phone simulator: plain DOM, every value rendered with textContent (bodies are untrusted).
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function getJson(url, options) {
  const response = await fetch(url, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function selection() {
  return { contact: $("contact").value.trim(), number: $("number").value };
}

function statusLine(resource) {
  const trail = (resource.callbacks || []).map((c) => c.status);
  const shown = trail.length ? trail.join(" → ") : resource.status;
  const error = resource.error_code ? ` (error ${resource.error_code})` : "";
  return `${resource.date_created} · ${shown}${error}`;
}

function renderConversation(data, contact) {
  const items = [];
  for (const m of data.messages) {
    const item = el("li", m.from === contact ? "sent" : "received");
    item.dataset.sid = m.sid;
    item.appendChild(el("span", "text", m.body));
    if (m.num_media && m.num_media !== "0") item.appendChild(el("span", "meta", `media: ${m.num_media}`));
    item.appendChild(el("span", "meta", m.direction === "inbound" ? `${m.date_created} · sent` : statusLine(m)));
    items.push([Date.parse(m.date_created), items.length, item]);
  }
  for (const c of data.calls) {
    const item = el("li", "call");
    item.dataset.sid = c.sid;
    item.appendChild(el("strong", null, `📞 call ${c.from} → ${c.to}`));
    item.appendChild(el("pre", "twiml", c.twiml || "(no TwiML)"));
    item.appendChild(el("span", "meta", statusLine(c)));
    items.push([Date.parse(c.date_created), items.length, item]);
  }
  items.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const list = $("conversation");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 5;
  list.replaceChildren(...items.map((entry) => entry[2]));
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function renderStack(data) {
  $("stack-status").textContent = data.available
    ? `account ${data.account}: ${data.messages.length} stored message(s) from this contact`
    : "the stack's table is not known to this sandbox";
  const conversations = data.conversations.map((c) => {
    const item = el("li", null, `${c.status}: ${c.trigger} / ${c.step_id} until ${c.deadline}`);
    if (c.prompt) item.appendChild(el("div", "meta", `prompt: ${c.prompt}`));
    return item;
  });
  $("stack-conversations").replaceChildren(
    ...(conversations.length ? conversations : [el("li", null, "none")]),
  );
  const stored = data.messages.map((m) => {
    const item = el("li");
    item.appendChild(el("strong", null, m.body));
    item.appendChild(el("div", "meta", `${m.message_sid} · ${m.received_at}`));
    const details = el("details");
    details.appendChild(el("summary", null, `action log (${m.action_log.steps.length} step(s))`));
    details.appendChild(el("pre", null, JSON.stringify(m.action_log, null, 2)));
    item.appendChild(details);
    return item;
  });
  const open = new Set([...document.querySelectorAll("#stored details[open]")].map((d) => d.parentElement.dataset.sid));
  stored.forEach((item, i) => {
    item.dataset.sid = data.messages[i].message_sid;
    if (open.has(item.dataset.sid)) item.querySelector("details").open = true;
  });
  $("stored").replaceChildren(...stored);
}

function renderEmails(data) {
  // Every field is text: a forwarded SMS's body is untrusted, and the HTML part is shown as source.
  const emails = data.emails.map((m) => {
    const item = el("li", "email");
    item.dataset.messageId = m.message_id;
    item.appendChild(el("strong", null, `✉ ${m.subject}`));
    item.appendChild(el("div", "meta", `${m.from} → ${m.to.join(", ")} · ${m.sent_at}`));
    item.appendChild(el("pre", "email-text", m.text || m.html));
    return item;
  });
  $("emails").replaceChildren(...(emails.length ? emails : [el("li", null, "none yet")]));
}

async function refresh() {
  const { contact, number } = selection();
  if (!contact || !number) return;
  const query = `contact=${encodeURIComponent(contact)}&number=${encodeURIComponent(number)}`;
  try {
    renderConversation(await getJson(`/simulator/api/conversation?${query}`), contact);
    renderStack(await getJson(`/simulator/api/stack?${query}`));
    renderEmails(await getJson("/simulator/api/emails"));
  } catch (error) {
    $("stack-status").textContent = `refresh failed: ${error.message}`;
  }
}

async function send(event) {
  event.preventDefault();
  const { contact, number } = selection();
  const payload = { from: contact, to: number, body: $("body").value, media_url: $("media-url").value || null };
  $("send").disabled = true;
  try {
    const result = await getJson("/simulator/api/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
    $("send-status").textContent = `posted ${result.message_sid}: the stack answered ${result.status}`;
    $("body").value = "";
  } catch (error) {
    $("send-status").textContent = `not sent: ${error.message}`;
  } finally {
    $("send").disabled = false;
  }
  await refresh();
}

function showConsoleLink(console_) {
  // The local web console (make run publishes it on the emulator); only an http(s) URL is linked.
  if (!console_ || !/^https?:\/\//.test(console_.url)) return;
  $("console-url").href = console_.url;
  $("console-login").textContent = `demo login ${console_.email} / ${console_.password}`;
  $("console-link").hidden = false;
}

async function setup() {
  const data = await getJson("/simulator/api/setup");
  $("number").replaceChildren(
    ...data.numbers.map((n) => {
      const option = el("option", null, `${n.phone_number} (${n.account || n.account_sid})`);
      option.value = n.phone_number;
      return option;
    }),
  );
  const failing = Object.entries(data.failing).map(([number, f]) => [number, `${f.status} ${f.error_code}`]);
  $("contacts").replaceChildren(
    ...data.contacts.map((c) => Object.assign(el("option"), { value: c })),
    ...failing.map(([number, label]) => Object.assign(el("option", null, label), { value: number })),
  );
  if (!$("contact").value && data.contacts.length) $("contact").value = data.contacts[0];
  showConsoleLink(data.console);
  $("send-form").addEventListener("submit", send);
  $("contact").addEventListener("change", refresh);
  $("number").addEventListener("change", refresh);
  await refresh();
  setInterval(refresh, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  setup().catch((error) => { $("send-status").textContent = `setup failed: ${error.message}`; });
});
