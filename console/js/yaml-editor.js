// The Triggers page's YAML editor: CodeMirror 6 (console/vendor/yaml-editor.bundle.js, pinned
// and built by tools/console-editor) checked as you type against the trigger file's JSON Schema
// (yaml-schema.js). Loaded by dynamic import on the Triggers page only: the inbox never fetches it.
//
//   const editor = mountYamlEditor(element, {text, schema, label, onChange});
//   editor.getText(); editor.setText(text); editor.focus(); editor.goTo(line, column);
//   editor.problems()   // [{line, column, message}] as last checked
//   editor.cursor()     // {line, column}
//
// Under the console's CSP (style-src 'self', no nonce: the files are static), CodeMirror may not
// add a <style> element to the page, and in a document that is what its style-mod does; in a
// shadow root it uses a constructed stylesheet (adoptedStyleSheets), which the policy allows.
// So the editor lives in a shadow root of its host element (open: tests and tools can reach it).
//
// Keyboard: Tab indents (Shift+Tab dedents); Escape then Tab (or Shift+Tab) leaves the editor;
// Ctrl+Space suggests fields and values; F8 goes to the next problem.
// The file is checked in a module worker (yaml-check-worker.js), so a big file never freezes
// typing. The problems are also listed under the editor, each a button that moves the cursor there,
// and their count is announced politely.

import {
  EditorState,
  EditorView,
  autocompletion,
  bracketMatching,
  completionKeymap,
  defaultHighlightStyle,
  defaultKeymap,
  drawSelection,
  forceLinting,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  history,
  historyKeymap,
  indentOnInput,
  indentUnit,
  indentWithTab,
  keymap,
  lineNumbers,
  lintGutter,
  lintKeymap,
  linter,
  syntaxHighlighting,
  yaml,
} from "../vendor/yaml-editor.bundle.js";
import { fetchWithin } from "./api.js";
import { el, show } from "./dom.js";
import { TriggerSchema } from "./yaml-schema.js";

export const SCHEMA_URL = "schema/triggers.schema.json";
const STYLESHEET = "yaml-editor.css";
const LINT_DELAY_MS = 300;
let editors = 0;

// The editor's look inside its shadow root (the page's stylesheets do not reach in; the
// console's colour variables do).
const LOOK = EditorView.theme({
  "&": { maxHeight: "70vh", fontSize: "1rem", backgroundColor: "var(--bg, #fff)" },
  "&.cm-focused": { outline: "3px solid var(--accent, #0b5cad)", outlineOffset: "2px" },
  ".cm-scroller": { overflow: "auto", fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" },
  ".cm-content": { minHeight: "12rem" },
  // The lint package draws these with data: SVG images, which the CSP (img-src 'self') refuses.
  ".cm-lintRange-error": {
    backgroundImage: "none",
    textDecoration: "underline wavy var(--bad, #b3261e)",
    textDecorationSkipInk: "none",
    textUnderlineOffset: "3px",
  },
  ".cm-lint-marker-error": {
    content: "normal",
    display: "inline-block",
    boxSizing: "border-box",
    width: "0.9em",
    height: "0.9em",
    borderRadius: "50%",
    border: "2px solid var(--bad, #b3261e)",
    backgroundColor: "#f87",
  },
});

const SCHEMA_TIMEOUT_MS = 15000;
let schemaLoaded = null;

/** The trigger file's JSON Schema, as the console serves it (console/schema/); read once a tab. */
export async function loadTriggerSchema(fetchImpl = (...args) => fetch(...args)) {
  if (!schemaLoaded) {
    schemaLoaded = (async () => {
      const response = await fetchWithin(SCHEMA_URL, {}, SCHEMA_TIMEOUT_MS, fetchImpl);
      if (!response.ok || response.data === null) {
        throw new Error(`The trigger schema could not be loaded (HTTP ${response.status}).`);
      }
      return response.data;
    })();
    schemaLoaded.catch(() => (schemaLoaded = null)); // a failure is retried next time
  }
  return schemaLoaded;
}

/** Mount the editor in `element` (its content is replaced); see the module's comment. */
export function mountYamlEditor(element, { text = "", schema = null, label = "Trigger file", onChange } = {}) {
  const id = `yaml-editor-${++editors}`;
  linkStylesheet();
  const checker = offThreadChecker(schema);
  const completer = new TriggerSchema(schema); // completion reads the text only: fast enough here
  let problems = [];

  const help = el(
    "p",
    { id: `${id}-help`, className: "yaml-editor-help" },
    "Tab indents. To leave the editor with the keyboard, press Escape, then Tab. " +
      "Ctrl+Space suggests fields and action types; F8 goes to the next problem.",
  );
  const host = el("div", { className: "yaml-editor" });
  const shadow = host.attachShadow({ mode: "open" });
  const count = el("p", {
    id: `${id}-count`,
    className: "yaml-problems-count",
    role: "status",
    "aria-live": "polite",
  });
  const list = el("ul", { className: "yaml-problems", "aria-label": "Problems in the file" });
  const caption = el("p", { className: "yaml-editor-label", "aria-hidden": "true" }, label);
  show(element, caption, help, host, count, list);

  function listProblems(found) {
    const plural = found.length === 1 ? "" : "s";
    const said =
      found.length === 0
        ? "Checked as you type: no problems."
        : `Checked as you type: ${found.length} problem${plural}. ${where(found[0])}`;
    if (count.textContent !== said) count.textContent = said;
    list.replaceChildren(
      ...found.map((problem) =>
        el(
          "li",
          {},
          el("button", { type: "button", onclick: () => goTo(problem.line, problem.column) }, where(problem)),
        ),
      ),
    );
  }

  const view = new EditorView({
    parent: shadow,
    root: shadow,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        indentUnit.of("  "),
        EditorState.tabSize.of(2),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        bracketMatching(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        LOOK,
        yaml(),
        keymap.of([...completionKeymap, ...lintKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        lintGutter(),
        linter(
          async (editor) => {
            problems = await checker.diagnose(editor.state.doc.toString());
            listProblems(problems);
            return problems.map((problem) => ({
              from: problem.from,
              to: problem.to,
              severity: "error",
              message: where(problem),
            }));
          },
          { delay: LINT_DELAY_MS },
        ),
        autocompletion({
          override: [
            (context) => {
              const found = completer.complete(context.state.doc.toString(), context.pos);
              // Unasked, suggest only once something is typed, or right after `key: `.
              const unasked = !context.explicit && found?.from === context.pos;
              if (!found || (unasked && !/:\s$/.test(lineBefore(context)))) return null;
              return { from: found.from, options: found.options, validFor: /^[\w.-]*$/ };
            },
          ],
        }),
        // (aria-describedby cannot point out of the shadow root: the help goes in as a description.)
        EditorView.contentAttributes.of({ "aria-label": label, "aria-description": help.textContent }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && onChange) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });

  function goTo(line, column = 1) {
    const doc = view.state.doc;
    const target = doc.line(Math.min(Math.max(1, Math.trunc(line) || 1), doc.lines));
    const position = Math.min(target.from + Math.max(0, (Math.trunc(column) || 1) - 1), target.to);
    view.dispatch({ selection: { anchor: position }, scrollIntoView: true });
    view.focus();
  }

  return {
    getText: () => view.state.doc.toString(),
    setText(value) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: String(value ?? "") } });
      forceLinting(view);
    },
    focus: () => view.focus(),
    cursor() {
      const head = view.state.selection.main.head;
      const line = view.state.doc.lineAt(head);
      return { line: line.number, column: head - line.from + 1 };
    },
    goTo,
    problems: () => problems.map(({ line, column, message }) => ({ line, column, message })),
    destroy() {
      view.destroy();
      checker.stop();
    },
  };
}

/**
 * {diagnose(text) → Promise of problems, stop()}: in a module worker (yaml-check-worker.js),
 * or on the page if workers are unavailable or the worker fails to start.
 */
function offThreadChecker(schema) {
  const local = new TriggerSchema(schema);
  const pending = new Map();
  let worker = null;
  let next = 0;
  const fallBack = () => {
    worker?.terminate();
    worker = null;
    for (const [, { text, resolve }] of pending) resolve(local.diagnose(text));
    pending.clear();
  };
  try {
    worker = new Worker(new URL("./yaml-check-worker.js", import.meta.url), { type: "module" });
    worker.addEventListener("message", ({ data }) => {
      pending.get(data.id)?.resolve(data.problems);
      pending.delete(data.id);
    });
    worker.addEventListener("error", fallBack);
    worker.addEventListener("messageerror", fallBack);
    worker.postMessage({ schema });
  } catch {
    worker = null;
  }
  return {
    diagnose(text) {
      if (!worker) return Promise.resolve(local.diagnose(text));
      const id = ++next;
      return new Promise((resolve) => {
        pending.set(id, { text, resolve });
        worker.postMessage({ id, text });
      });
    },
    stop: () => worker?.terminate(),
  };
}

/** The editor's page styles, linked once (a file of the console: the CSP allows 'self'). */
function linkStylesheet() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(el("link", { rel: "stylesheet", href: STYLESHEET }));
}

function where(problem) {
  return `Line ${problem.line}, column ${problem.column}: ${problem.message}`;
}

function lineBefore(context) {
  const line = context.state.doc.lineAt(context.pos);
  return line.text.slice(0, context.pos - line.from);
}
