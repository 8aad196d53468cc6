// Triggers: one account's trigger file — edit it, validate it (each problem at line:column, a
// click puts the caret there), test it against a message (a stored one or one typed in: the dry
// run step by step, nothing sent), push it (the diff against the live version first, then
// confirm), its versions and rollback; and the flow diagram of what each trigger does.
// Every role reads, validates and tests; only an admin sees Push and Roll back (the API refuses
// anyone else anyway). Loaded by dynamic import when the page opens (app.js).

import { accountPicker, confirmStep, dataTable, el, route, show, when } from "./dom.js";
import { mountEditor } from "./trigger-editor.js";
import { flowDiagram } from "./trigger-flow.js";

const RECENT_MESSAGES = 10;

export async function renderTriggers(main, ctx, account) {
  const accounts = await ctx.accounts();
  if (accounts.length === 0) {
    show(main, el("h1", { tabindex: "-1" }, "Triggers"), el("p", {}, "No account is visible to you."));
    return {};
  }
  const current = accounts.find((a) => a.name === account) || accounts[0];
  ctx.setAccount(current.name);
  const name = current.name;
  const admin = await ctx.may("admin");
  const live = await ctx.api.get(["accounts", name, "triggers"]);
  const state = { version: Number(live.version) || 0, text: String(live.text ?? "") };

  const liveLine = el("p", { id: "live-version" });
  const editorHost = el("div", { className: "editor" });
  const problems = el("div", { id: "problems", "aria-live": "polite" });
  const diagram = el("div", { id: "flow" });
  const result = el("div", { id: "test-result", "aria-live": "polite" });
  const review = el("div", { id: "push-review" });
  const history = el("div", { id: "history" });
  const editor = await mountEditor(editorHost, { text: state.text, label: `Trigger file of ${name} (YAML)` });

  function showLive(info) {
    show(liveLine, state.version
      ? `Live: version ${state.version}${info ? `, pushed ${when(info.pushed_at)}${info.pushed_by ? ` by ${info.pushed_by}` : ""}` : ""}.`
      : "Nothing pushed yet: the account runs no trigger.");
  }

  /** Problems as a list of buttons: each moves the caret to its line and column. */
  function showProblems(list, heading = "Problems") {
    if (!list.length) {
      show(problems, el("p", { className: "ok" }, "No problems: the file is valid."));
      return;
    }
    show(
      problems,
      el("h3", {}, `${heading} (${list.length})`),
      el("ol", { className: "problems" }, list.map((problem) =>
        el("li", {}, el(
          "button",
          { type: "button", className: "link", onclick: () => editor.goTo(problem.line, problem.column) },
          `Line ${problem.line}, column ${problem.column}: `,
          String(problem.message ?? ""),
        )))),
    );
  }

  async function validate() {
    const checked = await ctx.api.post(["accounts", name, "triggers", "validate"], { text: editor.getText() });
    const list = Array.isArray(checked.problems) ? checked.problems : [];
    showProblems(list);
    if (checked.ok) show(diagram, flowDiagram(checked.flow));
    return checked.ok === true;
  }

  // --- test against a message ----------------------------------------------------------------
  const recent = el("select", { id: "test-sid" }, el("option", { value: "" }, "(type a message below)"));
  const typed = {
    from: el("input", { id: "test-from", inputmode: "tel", placeholder: "+15551234567" }),
    to: el("input", { id: "test-to", inputmode: "tel", value: firstNumber(current) }),
    body: el("input", { id: "test-body" }),
    channel: el("select", { id: "test-channel" }, ["sms", "whatsapp", "mms", "messenger", "rcs"].map((c) => el("option", { value: c }, c))),
  };
  const replies = el("textarea", { id: "test-replies", rows: "2" });

  async function loadRecent() {
    const data = await ctx.api.get(["accounts", name, "messages"], { limit: RECENT_MESSAGES });
    const items = Array.isArray(data.items) ? data.items : [];
    recent.replaceChildren(
      el("option", { value: "" }, "(type a message below)"),
      items.map((m) => el("option", { value: String(m.sid) }, `${when(m.at)} · ${m.from ?? ""}: ${clip(m.body)}`)),
    );
  }

  async function runTest() {
    const message = recent.value
      ? { sid: recent.value }
      : { from: typed.from.value.trim(), to: typed.to.value.trim(), body: typed.body.value, channel: typed.channel.value };
    const answers = replies.value.split("\n").filter((line) => line.trim() !== "");
    const body = { text: editor.getText(), message, replies: answers };
    const run = await ctx.api.post(["accounts", name, "triggers", "test"], body);
    if (!run.ok) {
      showProblems(run.problems || []);
      show(result, el("p", { className: "error" }, "The file has problems (listed above): fix them to test it."));
      return;
    }
    show(result, dryRunReport(run));
  }

  // --- push ---------------------------------------------------------------------------------
  async function reviewPush() {
    if (!(await validate())) {
      show(review, el("p", { className: "error" }, "The file has problems: it cannot be pushed."));
      problems.querySelector("button")?.focus();
      return;
    }
    const text = editor.getText();
    const diff = await ctx.api.post(["accounts", name, "triggers", "diff"], { text, expected_version: state.version });
    if (!diff.changed) {
      show(review, el("p", {}, `Nothing to push: the text is the live version ${diff.live_version}'s.`));
      return;
    }
    const confirm = el("button", { type: "button", id: "confirm-push" }, `Push as version ${diff.live_version + 1}`);
    const cancel = el("button", { type: "button", className: "secondary" }, "Cancel");
    cancel.addEventListener("click", () => show(review));
    confirm.addEventListener("click", () => ctx.guard(() => push(text, confirm)));
    show(
      review,
      el("h3", {}, `Changes against the live version ${diff.live_version}`),
      diff.stale ? el("p", { className: "error" }, `Version ${diff.live_version} went live after you opened the file: pushing would replace it. Reload the live version to start from it.`) : null,
      diffView(diff),
      el("div", { className: "pager" }, confirm, cancel),
    );
    confirm.focus();
  }

  async function push(text, button) {
    button.disabled = true;
    try {
      const pushed = await ctx.api.put(["accounts", name, "triggers"], { text, expected_version: state.version });
      state.version = pushed.version;
      state.text = text;
      show(review, el("p", { className: "ok", role: "status" }, `Pushed: version ${pushed.version} is live.`));
      ctx.say(`Version ${pushed.version} is live.`);
      await refreshHistory();
    } catch (error) {
      if (error?.status === 400 && Array.isArray(error.data?.problems)) {
        showProblems(error.data.problems);
        show(review, el("p", { className: "error" }, "Not pushed: the file has problems."));
      } else if (error?.status === 409) {
        show(review, el("p", { className: "error" }, "Not pushed: someone pushed another version meanwhile. Reload the live version, apply your change to it, and push again."));
      } else {
        throw error;
      }
    } finally {
      button.disabled = false;
    }
  }

  // --- history and rollback -------------------------------------------------------------------
  async function refreshHistory() {
    const data = await ctx.api.get(["accounts", name, "triggers", "versions"]);
    const items = Array.isArray(data.items) ? data.items : [];
    state.version = Number(data.current) || state.version;
    showLive(items[0]);
    if (!items.length) {
      show(history, el("p", { className: "muted" }, "No version yet."));
      return;
    }
    const rows = items.map((info) => versionRow(info));
    show(
      history,
      dataTable(null, ["Version", "Pushed", "By", "Triggers", ""], rows, { "aria-label": `trigger file versions of ${name}` }),
    );
  }

  function versionRow(info) {
    const version = Number(info.version);
    const live_ = version === state.version;
    const open = el("button", { type: "button", className: "secondary" }, `Open version ${version}`);
    open.addEventListener("click", () => ctx.guard(async () => {
      const stored = await ctx.api.get(["accounts", name, "triggers", "versions", version]);
      editor.setText(String(stored.text ?? ""));
      ctx.say(`Version ${version} is in the editor (not pushed).`);
      await validate();
      editor.focus();
    }));
    const actions = [open];
    if (admin && !live_) {
      const back = el("button", { type: "button", className: "secondary" }, `Roll back to version ${version}`);
      actions.push(rollbackStep(version, back));
    }
    const note = info.restored_from ? ` (rollback to ${info.restored_from})` : "";
    return el(
      "tr",
      {},
      el("td", {}, `${version}${live_ ? " (live)" : ""}${note}`),
      el("td", {}, el("time", { datetime: String(info.pushed_at ?? "") }, when(info.pushed_at))),
      el("td", {}, info.pushed_by ? String(info.pushed_by) : "–"),
      el("td", {}, (Array.isArray(info.trigger_names) ? info.trigger_names : []).map(String).join(", ") || "–"),
      el("td", { className: "row-actions" }, actions),
    );
  }

  function rollbackStep(version, back) {
    const confirm = el("button", { type: "button", id: "confirm-rollback" }, `Make version ${version}'s triggers live`);
    const cancel = el("button", { type: "button", className: "secondary" }, "Cancel");
    const question = () => `Roll back to version ${version}? It becomes a new live version; version ${state.version} is kept.`;
    const rollBack = () => ctx.act(confirm, async () => {
      const done = await ctx.api.post(["accounts", name, "triggers", "rollback"], { version, expected_version: state.version });
      state.version = done.version;
      const stored = await ctx.api.get(["accounts", name, "triggers"]);
      state.text = String(stored.text ?? "");
      editor.setText(state.text);
      ctx.say(`Version ${done.version} is live, with the triggers of version ${version}.`);
      await refreshHistory();
      await validate();
    }, {
      expected: [409],
      refused: async () => {
        ctx.say("Not rolled back: someone pushed another version meanwhile. The list is reloaded.", true);
        await refreshHistory();
      },
    });
    return confirmStep(back, question, confirm, cancel, rollBack);
  }

  async function reloadLive() {
    const fresh = await ctx.api.get(["accounts", name, "triggers"]);
    state.version = Number(fresh.version) || 0;
    state.text = String(fresh.text ?? "");
    editor.setText(state.text);
    show(review);
    await refreshHistory();
    await validate();
  }

  // --- the page -------------------------------------------------------------------------------
  const validateButton = el("button", { type: "button", id: "validate" }, "Validate");
  validateButton.addEventListener("click", () => ctx.guard(async () => {
    if (!(await validate())) problems.querySelector("button")?.focus();
  }));
  const reloadButton = el("button", { type: "button", className: "secondary" }, "Reload the live version");
  reloadButton.addEventListener("click", () => ctx.guard(reloadLive));
  const pushButton = admin ? el("button", { type: "button", id: "push" }, "Review and push…") : null;
  pushButton?.addEventListener("click", () => ctx.guard(reviewPush));
  const testButton = el("button", { type: "button", id: "run-test" }, "Run the test");
  testButton.addEventListener("click", () => ctx.guard(runTest));

  show(
    main,
    el("h1", { tabindex: "-1" }, "Triggers"),
    accountPicker(accounts, name, (picked) => (location.hash = route("triggers", picked))),
    liveLine,
    admin ? null : el("p", { className: "muted", id: "read-only" }, "You may edit, validate and test here; only an admin can push or roll back."),
    el("section", { "aria-labelledby": "edit-heading" },
      el("h2", { id: "edit-heading" }, "The file"),
      editorHost,
      el("div", { className: "pager" }, validateButton, pushButton, reloadButton),
      problems,
      review),
    el("section", { "aria-labelledby": "test-heading" },
      el("h2", { id: "test-heading" }, "Test against a message"),
      el("p", { className: "muted" }, "A dry run of the file in the editor: nothing is sent, nothing is stored."),
      el("div", { className: "filters" },
        el("label", { for: "test-sid", className: "wide" }, "A recent message", recent),
        el("label", { for: "test-from" }, "From (the contact)", typed.from),
        el("label", { for: "test-to" }, "To (our number)", typed.to),
        el("label", { for: "test-body", className: "wide" }, "Text", typed.body),
        el("label", { for: "test-channel" }, "Channel", typed.channel),
        el("label", { for: "test-replies", className: "wide" }, "The contact's replies to a wait, one per line", replies)),
      testButton,
      result),
    el("section", { "aria-labelledby": "flow-heading" },
      el("h2", { id: "flow-heading" }, "What the triggers do"),
      el("p", { className: "muted" }, "Drawn from the file as last validated."),
      diagram),
    el("section", { "aria-labelledby": "history-heading" },
      el("h2", { id: "history-heading" }, "Versions"),
      history),
  );
  showLive(live.info);
  await Promise.all([validate(), refreshHistory(), loadRecent()]);
  return {}; // nothing polls here: an edit in progress is never replaced under the user's hands
}

/** The dry run step by step, as `sms-automation triggers test` reports it. */
export function dryRunReport(run) {
  const steps = Array.isArray(run.steps) ? run.steps : [];
  const matched = Array.isArray(run.matched) ? run.matched : [];
  const runReplies = Array.isArray(run.replies) ? run.replies : [];
  const diagnostics = Array.isArray(run.diagnostics) ? run.diagnostics : [];
  return el(
    "div",
    { className: "dry-run" },
    el("h3", {}, "Dry run"),
    el("dl", { className: "params" },
      el("dt", {}, "Status"), el("dd", {}, String(run.status ?? "")),
      el("dt", {}, "Matched"), el("dd", {}, matched.length ? matched.map(String).join(", ") : "no trigger"),
      run.opt_out_keyword ? [el("dt", {}, "Opt-out word"), el("dd", {}, `${run.opt_out_keyword}: only triggers with on_opt_out run`)] : null,
      run.paused_at ? [el("dt", {}, "Paused at"), el("dd", {}, `${run.paused_at} (waiting for a reply)`)] : null),
    steps.length
      ? el("ol", { className: "steps" }, steps.map((step) =>
          el("li", {}, el("code", {}, String(step.step_id ?? "")), " ", String(step.description ?? step.kind ?? ""), " — ", el("span", { className: "muted" }, String(step.outcome ?? "")))))
      : el("p", {}, "No action would run."),
    runReplies.length
      ? [el("h4", {}, "Replies"), el("ul", {}, runReplies.map((r) => el("li", {}, `[${r.conversation}] ${r.description ?? r.body}`)))]
      : null,
    diagnostics.length ? el("ul", { className: "diagnostics" }, diagnostics.map((d) => el("li", {}, `${d.severity}: ${d.message}`))) : null,
  );
}

/** A unified diff, each line as text, marked added / removed by a fixed class. */
function diffView(diff) {
  const lines = Array.isArray(diff.diff) ? diff.diff : [];
  return [
    el("pre", { className: "diff", tabindex: "0", "aria-label": "changes" }, lines.map((line) => {
      const text = String(line);
      const kind = text.startsWith("+") && !text.startsWith("+++") ? "added" : text.startsWith("-") && !text.startsWith("---") ? "removed" : "same";
      return el("span", { className: kind }, `${text}\n`);
    })),
    diff.truncated ? el("p", { className: "muted" }, "The diff is longer: only its beginning is shown.") : null,
  ];
}

function firstNumber(account) {
  const numbers = Array.isArray(account.numbers) ? account.numbers : [];
  return numbers.length ? String(numbers[0]) : "";
}

function clip(value) {
  const text = String(value ?? "");
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}
