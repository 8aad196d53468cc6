// The flow diagram of a trigger file, for people who do not read YAML: each trigger as a
// disclosure (<details>, keyboard-operable) holding its conditions, what it extracts, its actions
// in order, `if` branches and each wait's four outcomes as nested lists of plain sentences.
// Drawn from the server's model of the same file (triggers/flow.py: the parsed file the engine
// runs, defaults filled in); every string from the file reaches the page as a text node.

import { el } from "./dom.js";

/** The diagram of a file's model ({triggers, automations}), or a note when it is empty. */
export function flowDiagram(model) {
  const triggers = Array.isArray(model?.triggers) ? model.triggers : [];
  const automations = Array.isArray(model?.automations) ? model.automations : [];
  if (triggers.length === 0 && automations.length === 0) {
    return el("p", { className: "muted" }, "This file has no triggers and no automations.");
  }
  return el(
    "div",
    { className: "flow" },
    triggers.map((trigger, index) => triggerBox(trigger, index)),
    automations.map((automation) => automationBox(automation)),
  );
}

function triggerBox(trigger, index) {
  const state = trigger.enabled === false ? " (switched off)" : "";
  return el(
    "details",
    { className: "flow-trigger", open: true },
    el("summary", {}, `Trigger ${index + 1}: ${text(trigger.name)}${state}`),
    trigger.description ? el("p", { className: "muted" }, text(trigger.description)) : null,
    el("p", { className: "flow-label" }, "When a message arrives and"),
    conditionList(trigger.when),
    trigger.on_opt_out ? el("p", {}, "It also runs for an opt-out word (STOP…).") : null,
    Array.isArray(trigger.extract) && trigger.extract.length
      ? [el("p", { className: "flow-label" }, "it first reads"), el("ul", {}, trigger.extract.map((e) => el("li", {}, text(e))))]
      : null,
    el("p", { className: "flow-label" }, "it does, in this order:"),
    actionList(trigger.actions),
    el("p", { className: "flow-after" }, `…${text(trigger.after)}.`),
  );
}

function automationBox(automation) {
  const state = automation.enabled === false ? " (switched off)" : "";
  return el(
    "details",
    { className: "flow-trigger", open: true },
    el("summary", {}, `Automation: ${text(automation.name)}${state}`),
    automation.description ? el("p", { className: "muted" }, text(automation.description)) : null,
    listOf("Its inputs", automation.inputs),
    listOf("It starts on a schedule", automation.schedules),
    el("p", { className: "flow-label" }, "When started for a contact, it does, in this order:"),
    actionList(automation.actions),
  );
}

function listOf(label, items) {
  if (!Array.isArray(items) || items.length === 0) return null;
  return [el("p", { className: "flow-label" }, `${label}:`), el("ul", {}, items.map((item) => el("li", {}, text(item))))];
}

/** A condition tree as nested lists: "all of these hold" / "any of these holds" / "not". */
function conditionList(condition) {
  return el("ul", { className: "flow-conditions" }, conditionItem(condition));
}

function conditionItem(condition) {
  if (!condition || typeof condition !== "object") return el("li", {}, "every message");
  const children = Array.isArray(condition.children) ? condition.children : [];
  return el(
    "li",
    {},
    text(condition.text),
    children.length ? el("ul", {}, children.map(conditionItem)) : null,
  );
}

function actionList(actions) {
  if (!Array.isArray(actions) || actions.length === 0) return el("p", { className: "muted" }, "nothing");
  return el("ol", { className: "flow-actions" }, actions.map(actionItem));
}

function actionItem(action) {
  const branches = Array.isArray(action.branches) ? action.branches : [];
  return el(
    "li",
    { className: `flow-action flow-${kindClass(action.type)}` },
    action.when ? el("span", { className: "flow-only-if" }, ["Only if ", inlineCondition(action.when), ": "]) : null,
    el("span", {}, text(action.text)),
    action.id ? el("span", { className: "muted" }, ` (step ${text(action.id)})`) : null,
    action.condition ? conditionList(action.condition) : null,
    branches.length
      ? el(
          "ul",
          { className: "flow-branches" },
          branches.map((branch) =>
            el("li", {}, el("strong", {}, `${capitalised(text(branch.label))}:`), actionList(branch.actions))),
        )
      : null,
  );
}

/** A condition on one line (an action's `when`): its sentence, its parts in brackets. */
function inlineCondition(condition) {
  const children = Array.isArray(condition?.children) ? condition.children : [];
  if (children.length === 0) return text(condition?.text);
  return `${text(condition.text)} (${children.map(inlineCondition).join("; ")})`;
}

/** A fixed word for the action's class, never the raw value. */
function kindClass(type) {
  const known = ["send_sms", "make_call", "record", "http_request", "set_variable", "extract", "if", "stop", "wait_for_reply"];
  return known.includes(type) ? type.replaceAll("_", "-") : "other";
}

function capitalised(value) {
  return value ? value[0].toUpperCase() + value.slice(1) : value;
}

function text(value) {
  return value === null || value === undefined ? "" : String(value);
}
