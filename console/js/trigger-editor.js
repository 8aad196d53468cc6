// The Triggers page's editor seam: mountEditor(host, {text, label, onChange}) puts an editor in
// `host` and resolves to {getText, setText, goTo(line, column), focus}. The CodeMirror YAML
// editor (yaml-editor.js: checked against the trigger schema as you type, completion), loaded
// by dynamic import on this page only; if it or the schema cannot be loaded, a labelled
// monospace <textarea>, so the page works either way (the server validates on push).

import { el, show } from "./dom.js";

export async function mountEditor(host, options = {}) {
  try {
    const { loadTriggerSchema, mountYamlEditor } = await import("./yaml-editor.js");
    return mountYamlEditor(host, { ...options, schema: await loadTriggerSchema() });
  } catch (error) {
    console.warn("The YAML editor could not be loaded; a plain text area instead.", error);
    const editor = mountTextArea(host, options);
    host.append(el("p", { className: "muted" }, "The checking editor could not be loaded: Validate checks the file."));
    return editor;
  }
}

/** The fallback: a labelled <textarea> with the same methods. */
export function mountTextArea(host, { text = "", label = "Trigger file (YAML)", onChange = () => {} } = {}) {
  const area = el("textarea", {
    id: "trigger-text",
    className: "code",
    rows: "24",
    spellcheck: "false",
    autocomplete: "off",
    autocapitalize: "off",
    wrap: "off",
  });
  area.value = text;
  area.addEventListener("input", () => onChange(area.value));
  show(host, el("label", { for: "trigger-text" }, label), area);
  return {
    getText: () => area.value,
    setText(value) {
      area.value = value;
    },
    focus: () => area.focus(),
    /** Put the caret at a 1-based line and column (clamped to the text). */
    goTo(line, column = 1) {
      const lines = area.value.split("\n");
      const row = Math.min(Math.max(1, Math.trunc(line) || 1), lines.length);
      let offset = 0;
      for (let index = 0; index < row - 1; index += 1) offset += lines[index].length + 1;
      offset += Math.min(Math.max(0, (Math.trunc(column) || 1) - 1), lines[row - 1].length);
      area.focus();
      area.setSelectionRange(offset, offset);
      // Scroll the caret's line into view (a textarea has no API for it: estimate by lines).
      const lineHeight = area.scrollHeight / Math.max(lines.length, 1);
      area.scrollTop = Math.max(0, (row - 3) * lineHeight);
    },
  };
}
