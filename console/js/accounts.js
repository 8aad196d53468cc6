// Accounts: receive on/off, "Verify Twilio Account", the Messaging Request URL to copy, the
// account's numbers and whether each points here (an admin connects one), and replacing the
// auth token (an admin; write-only: the API never answers a token).
//   #/accounts/{account}

import { ApiError } from "./api.js";
import { accountPicker, badge, dataTable, el, route, show } from "./dom.js";

export async function renderAccounts(main, ctx, account) {
  const accounts = await ctx.accounts();
  if (accounts.length === 0) {
    show(main, el("h1", { tabindex: "-1" }, "Accounts"), el("p", {}, "No account is visible to you."));
    return {};
  }
  const current = accounts.find((a) => a.name === account) || accounts[0];
  const name = current.name;
  ctx.setAccount(name);
  const [detail, isAdmin] = await Promise.all([ctx.api.get(["accounts", name]), ctx.may("admin")]);
  const receive = el("p", { id: "receive-state" });
  const drawReceive = (on) => show(receive, "Receiving messages: ", badge(on ? "on" : "off"));
  drawReceive(detail.receive === true);
  const numbers = el("div", { id: "numbers" }, el("p", {}, "Asking Twilio…"));
  const verification = el("p", { id: "verification", role: "status" });

  const loadNumbers = async () => {
    try {
      const data = await ctx.api.get(["accounts", name, "numbers"]);
      show(numbers, numberTable(ctx, name, Array.isArray(data.items) ? data.items : [], isAdmin, loadNumbers));
    } catch (error) {
      if (!(error instanceof ApiError) || error.status < 500) throw error;
      show(numbers, el("p", { className: "field-error" }, `Twilio: ${error.message}`));
    }
  };

  const verify = el("button", { type: "button", className: "secondary" }, "Verify Twilio Account");
  verify.addEventListener("click", () => ctx.guard(async () => {
    verify.disabled = true;
    verification.textContent = "Asking Twilio…";
    try {
      const result = await ctx.api.post(["accounts", name, "verify"]);
      verification.textContent = verificationText(result);
    } finally {
      verify.disabled = false;
    }
  }));

  show(
    main,
    el("h1", { tabindex: "-1" }, "Account ", name),
    accountPicker(accounts, name, (other) => (location.hash = route("accounts", other))),
    el("dl", { className: "params" },
      el("dt", {}, "Twilio Account SID"), el("dd", {}, String(detail.account_sid ?? "")),
      el("dt", {}, "Time zone"), el("dd", {}, String(detail.time_zone ?? ""))),
    el("h2", {}, "Receiving"),
    receive,
    isAdmin ? receiveToggle(ctx, name, () => detail.receive === true, (on) => {
      detail.receive = on;
      drawReceive(on);
    }) : null,
    el("h2", {}, "Messaging Request URL"),
    copyField("request-url", "Twilio's “A message comes in” URL (HTTP POST)", String(detail.messaging_request_url ?? ""), ctx),
    el("p", {}, verify),
    verification,
    el("h2", {}, "Numbers"),
    numbers,
    isAdmin ? tokenForm(ctx, name) : null,
  );
  await loadNumbers();
  return {};
}

function verificationText(result) {
  if (result.outcome === "verified") {
    return `Verified: ${result.friendly_name ?? result.account_sid} is ${result.status ?? "active"}.`;
  }
  const code = result.twilio_code ? ` (Twilio error ${result.twilio_code})` : "";
  return `Not verified: ${String(result.outcome ?? "unknown").replaceAll("_", " ")}${code}: ${result.detail ?? ""}`;
}

function receiveToggle(ctx, name, isOn, changed) {
  const button = el("button", { type: "button", className: "secondary" });
  const label = () => (button.textContent = isOn() ? "Stop receiving" : "Start receiving");
  label();
  button.addEventListener("click", () => ctx.guard(async () => {
    button.disabled = true;
    try {
      const updated = await ctx.api.put(["accounts", name, "receive"], { enabled: !isOn() });
      changed(updated.receive === true);
      label();
      ctx.say(updated.receive ? "The account receives messages again." : "The account now refuses messages.");
    } finally {
      button.disabled = false;
    }
  }));
  return el("p", {}, button);
}

function copyField(id, label, value, ctx) {
  const input = el("input", { id, type: "text", readonly: true, value });
  const copy = el("button", { type: "button", className: "secondary" }, "Copy");
  copy.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(value);
      ctx.say("Copied the Messaging Request URL.");
    } catch {
      ctx.say("Selected: copy it with Ctrl+C (⌘C).");
    }
  });
  return el("div", { className: "copy" }, el("label", { for: id }, label, input), copy);
}

function numberTable(ctx, name, items, isAdmin, reload) {
  if (items.length === 0) return el("p", {}, "Twilio lists no number for this account.");
  // Whether it points here comes before the long URL: on a phone the table scrolls sideways.
  const head = ["Number", "Points here", isAdmin ? "Connect" : null, "SMS webhook"];
  return dataTable(null, head, items.map((number) => {
    const phone = String(number.phone_number ?? "");
    const target = number.sms_application_sid
      ? `TwiML App ${number.sms_application_sid}`
      : number.sms_url ? `${number.sms_method || "POST"} ${number.sms_url}` : "(none)";
    let action = null;
    if (isAdmin) {
      action = number.points_here ? "" : el("button", {
        type: "button", className: "secondary", "aria-label": `Connect ${phone}`,
        onclick: (event) => ctx.guard(async () => {
          event.target.disabled = true;
          await ctx.api.post(["accounts", name, "numbers", "connect"], { number: phone });
          ctx.say(`${phone} now sends to this deployment.`);
          await reload();
        }),
      }, "Connect");
    }
    return el("tr", { "data-number": phone },
      el("td", {}, phone),
      el("td", {}, badge(number.points_here ? "yes" : "no")),
      action === null ? null : el("td", {}, action),
      el("td", {}, target));
  }), { "aria-label": "the account's numbers" });
}

function tokenForm(ctx, name) {
  const input = el("input", { id: "auth-token", name: "auth_token", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const error = el("p", { className: "field-error", id: "auth-token-error", role: "alert", hidden: true });
  input.setAttribute("aria-describedby", "auth-token-hint auth-token-error");
  const submit = el("button", { type: "submit" }, "Replace auth token");
  const form = el(
    "form",
    { className: "token", "aria-labelledby": "token-heading", novalidate: true },
    el("h2", { id: "token-heading" }, "Replace the auth token"),
    el("label", { for: "auth-token" }, "New auth token", input),
    el("span", { className: "hint", id: "auth-token-hint" },
      "Twilio is asked first; the current token stays accepted for 24 hours. It is never shown again."),
    error,
    submit,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!input.value.trim()) {
      error.textContent = "Paste the new auth token from the Twilio Console.";
      error.hidden = false;
      input.focus();
      return;
    }
    ctx.act(submit, async () => {
      const result = await ctx.api.put(["accounts", name, "auth-token"], { auth_token: input.value.trim() });
      ctx.say(result.replaced
        ? `Auth token replaced; the previous one is accepted until ${result.previous_accepted_until}.`
        : "That token is already the current one; nothing changed.");
    }, {
      expected: [400],
      refused: (failure) => {
        error.textContent = failure.message;
        error.hidden = false;
        input.focus();
      },
      after: () => {
        input.value = ""; // never kept in the page
      },
    });
  });
  return form;
}
