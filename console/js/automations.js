// Automations: each automation of the account's current trigger file with a form built from its
// typed inputs (operators and admins start a run; the API checks every field and names each
// problem), the account's runs newest first, and a run's action log.
//   #/automations/{account}        #/run/{account}/{run_id}

import { ApiError, idempotencyKey } from "./api.js";
import { accountPicker, badge, dataTable, el, pager, route, show, when } from "./dom.js";

const PAGE_SIZE = 25;
const E164 = "\\+[1-9][0-9]{6,14}";

export async function renderAutomations(main, ctx, account) {
  const accounts = await ctx.accounts();
  if (accounts.length === 0) {
    show(main, el("h1", { tabindex: "-1" }, "Automations"), el("p", {}, "No account is visible to you."));
    return {};
  }
  const current = accounts.find((a) => a.name === account) || accounts[0];
  ctx.setAccount(current.name);
  const [listed, mayStart] = await Promise.all([
    ctx.api.get(["accounts", current.name, "automations"]),
    ctx.may("operator"),
  ]);
  const automations = Array.isArray(listed.items) ? listed.items : [];
  const runs = runList(ctx, current.name);
  const forms = automations.map((automation) =>
    automationSection(ctx, current.name, automation, mayStart, () => runs.load()));
  show(
    main,
    el("h1", { tabindex: "-1" }, "Automations"),
    accountPicker(accounts, current.name, (name) => (location.hash = route("automations", name))),
    listed.trigger_version === null || listed.trigger_version === undefined
      ? el("p", {}, "This account has no trigger file yet.")
      : el("p", { className: "muted" }, `From trigger file version ${listed.trigger_version}.`),
    automations.length ? forms : el("p", {}, "Its trigger file has no automations."),
    el("h2", { id: "runs-heading" }, "Runs"),
    runs.node,
  );
  await runs.load();
  return { refresh: () => runs.refresh() };
}

function automationSection(ctx, account, automation, mayStart, started) {
  const name = String(automation.name ?? "");
  const id = `automation-${slug(name)}`;
  const section = el(
    "section",
    { className: "automation", "aria-labelledby": id },
    el("h2", { id }, name),
    automation.description ? el("p", {}, String(automation.description)) : null,
  );
  if (automation.enabled === false) {
    section.append(el("p", { className: "muted" }, "Disabled in the trigger file: it cannot be started."));
  } else if (mayStart) {
    section.append(startForm(ctx, account, automation, id, started));
  }
  return section;
}

/** The form of one automation: To, From, then one field per input (type, required, default). */
export function startForm(ctx, account, automation, id, started) {
  const inputs = Array.isArray(automation.inputs) ? automation.inputs : [];
  const fields = new Map(); // API field name -> {control, error}
  const field = (key, label, control, hint) => {
    const error = el("p", { className: "field-error", id: `${control.id}-error`, hidden: true });
    const hintNode = hint ? el("span", { className: "hint", id: `${control.id}-hint` }, hint) : null;
    control.setAttribute("aria-describedby", [hintNode ? hintNode.id : "", error.id].filter(Boolean).join(" "));
    fields.set(key, { control, error });
    return el("div", { className: "field" }, el("label", { for: control.id }, label, control), hintNode, error);
  };
  const to = el("input", { id: `${id}-to`, name: "to", type: "tel", required: true, pattern: E164, autocomplete: "off", placeholder: "+15551234567" });
  const from = el("input", { id: `${id}-from`, name: "from", type: "tel", pattern: E164, required: !automation.from, placeholder: automation.from ? String(automation.from) : "+15551234567" });
  const formError = el("p", { className: "field-error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit" }, "Start");
  const form = el(
    "form",
    { className: "start", "aria-label": `start ${String(automation.name ?? "")}`, novalidate: true },
    field("to", "To (the contact)", to, "E.164, e.g. +15551234567"),
    field("from", "From (our number)", from, automation.from ? `Default: ${automation.from}` : "Required: this automation names no number"),
    inputs.map((input) => {
      const control = inputControl(`${id}-in-${slug(String(input.name ?? ""))}`, input);
      return field(`variables.${input.name}`, inputLabel(input), control, inputHint(input));
    }),
    formError,
    submit,
  );
  let key = idempotencyKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return; // one request per submitted form
    clearErrors(fields, formError);
    if (!form.checkValidity()) {
      for (const { control, error } of fields.values()) {
        if (!control.checkValidity()) setError(control, error, control.validationMessage);
      }
      form.querySelector("[aria-invalid=true]")?.focus();
      return;
    }
    submit.disabled = true;
    try {
      const run = await ctx.api.post(["accounts", account, "automations", String(automation.name), "runs"], {
        to: to.value.trim(),
        from: from.value.trim() || undefined,
        variables: variablesOf(inputs, fields),
        idempotency_key: key,
      });
      key = idempotencyKey(); // the next submission is a new run
      ctx.say(`${run.created === false ? "Already started" : "Started"}: run ${run.run_id}.`);
      form.reset();
      await started();
    } catch (error) {
      if (!(error instanceof ApiError) || !showProblems(error, fields, formError)) {
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
          setError(null, formError, error.message);
        } else {
          throw error; // the page says it (and the same key makes a retry start one run)
        }
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function inputControl(id, input) {
  const type = String(input.type || "text");
  const required = input.required === true;
  const fallback = input.default === null || input.default === undefined ? "" : String(input.default);
  if (type === "boolean") {
    const options = required ? [] : [el("option", { value: "" }, fallback ? `default (${fallback})` : "not given")];
    return el("select", { id, name: input.name, required },
      options, ["true", "false"].map((v) => el("option", { value: v }, v === "true" ? "yes" : "no")));
  }
  const types = { number: "number", integer: "number", phone: "tel", email: "email", date: "date", datetime: "datetime-local" };
  return el("input", {
    id,
    name: input.name,
    type: types[type] || "text",
    step: type === "integer" ? "1" : type === "number" ? "any" : null,
    pattern: type === "phone" ? E164 : null,
    required,
    placeholder: fallback || null,
    maxlength: type === "text" ? "4096" : null,
  });
}

function inputLabel(input) {
  return `${String(input.name ?? "")}${input.required ? " (required)" : ""}`;
}

function inputHint(input) {
  const parts = [String(input.type || "text")];
  if (input.default !== null && input.default !== undefined) parts.push(`default: ${input.default}`);
  if (input.description) parts.push(String(input.description));
  return parts.join(" · ");
}

/** The given inputs only (an empty one takes its default on the server). */
function variablesOf(inputs, fields) {
  const variables = {};
  for (const input of inputs) {
    const { control } = fields.get(`variables.${input.name}`);
    const value = control.value.trim();
    if (value === "") continue;
    // A datetime-local has no zone: the browser's local time, sent with its offset as UTC.
    variables[input.name] = input.type === "datetime" ? new Date(value).toISOString() : value;
  }
  return variables;
}

function showProblems(error, fields, formError) {
  const problems = Array.isArray(error.data?.problems) ? error.data.problems : [];
  if (problems.length === 0) return false;
  const other = [];
  for (const problem of problems) {
    const target = fields.get(String(problem.field));
    if (target) setError(target.control, target.error, String(problem.message));
    else other.push(`${problem.field}: ${problem.message}`);
  }
  if (other.length) setError(null, formError, other.join("; ")); // role=alert: announced
  formError.closest("form")?.querySelector("[aria-invalid=true]")?.focus();
  return true;
}

function setError(control, error, message) {
  if (control) control.setAttribute("aria-invalid", "true");
  error.textContent = message;
  error.hidden = false;
}

function clearErrors(fields, formError) {
  for (const { control, error } of fields.values()) {
    control.removeAttribute("aria-invalid");
    error.hidden = true;
    error.textContent = "";
  }
  formError.hidden = true;
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "x";
}

/** The account's runs, newest first, with "Older" / "Newest"; the first page stays live. */
function runList(ctx, account) {
  const body = el("tbody");
  const table = dataTable(null, ["Run", "Automation", "Status", "Requested", "By"], body, { "aria-labelledby": "runs-heading" });
  const pages = pager({
    fetch: (cursor) => ctx.api.get(["accounts", account, "runs"], { cursor, limit: PAGE_SIZE }),
    render: (items) => show(body, items.length ? items.map((run) => el("tr", {},
      el("td", {}, el("a", { href: route("run", account, run.run_id) }, String(run.run_id ?? ""))),
      el("td", {}, String(run.automation ?? "")),
      el("td", {}, badge(run.status)),
      el("td", {}, el("time", { datetime: String(run.requested_at ?? "") }, when(run.requested_at))),
      el("td", {}, String(run.source ?? "")),
    )) : el("tr", {}, el("td", { colspan: "5" }, "No runs yet."))),
    guard: (action) => ctx.guard(action),
    focus: () => body.querySelector("a")?.focus(),
  });
  return { node: el("div", {}, table, pages.node), load: () => pages.load(), refresh: () => pages.refresh() };
}

/** One run: its status, inputs and action log (live until it ends). */
export async function renderRun(main, ctx, account, runId) {
  ctx.setAccount(account);
  const summary = el("dl", { className: "params" });
  const log = el("div", { id: "run-log" });
  const draw = (run) => {
    show(summary, [
      ["Automation", run.automation], ["Status", badge(run.status)], ["To", run.to], ["From", run.from],
      ["Requested", when(run.requested_at)], ["By", `${run.source ?? ""} ${run.requested_by ?? ""}`.trim()],
      ["Waiting at", run.waiting_at || "–"], ["Finished", run.finished_at ? when(run.finished_at) : "–"],
    ].map(([term, value]) => [el("dt", {}, term), el("dd", {}, value instanceof Node ? value : String(value ?? ""))]));
    const steps = Array.isArray(run.steps) ? run.steps : [];
    show(log, steps.length ? stepTable(steps) : el("p", {}, "No step has run yet."));
  };
  const run = await ctx.api.get(["accounts", account, "runs", runId]);
  const variables = run.variables && typeof run.variables === "object" ? run.variables : {};
  draw(run);
  show(
    main,
    el("p", {}, el("a", { href: route("automations", account) }, "← Automations")),
    el("h1", { tabindex: "-1" }, "Run ", String(run.run_id ?? runId)),
    summary,
    el("h2", {}, "Inputs"),
    el("dl", { className: "params" }, Object.keys(variables).sort().map((k) => [el("dt", {}, k), el("dd", {}, String(variables[k]))])),
    el("h2", {}, "Action log"),
    log,
  );
  let ended = run.ended === true;
  return {
    refresh: async () => {
      if (ended) return;
      const again = await ctx.api.get(["accounts", account, "runs", runId]);
      ended = again.ended === true;
      draw(again);
    },
  };
}

function stepTable(steps) {
  return dataTable("Action log", ["Step", "Action", "Outcome", "Detail", "Delivery"], steps.map((step) => el("tr", {},
    el("td", {}, String(step.step_id ?? "")),
    el("td", {}, String(step.kind ?? "")),
    el("td", {}, badge(step.state)),
    el("td", {}, String(step.detail ?? "")),
    el("td", {}, step.delivery && typeof step.delivery === "object" ? badge(step.delivery.status) : ""),
  )));
}
