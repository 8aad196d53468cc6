// What the console's YAML editor uses from its third-party packages: re-exported as one ES
// module (console/vendor/yaml-editor.bundle.js), so the console loads one file, on the Triggers
// page only. The editor itself (lint, completion, keyboard) is console/js/yaml-editor.js.

export { EditorState } from "@codemirror/state";
export {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  drawSelection,
  highlightSpecialChars,
} from "@codemirror/view";
export {
  defaultKeymap,
  history,
  historyKeymap,
  indentWithTab,
} from "@codemirror/commands";
export {
  bracketMatching,
  defaultHighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
export { yaml } from "@codemirror/lang-yaml";
export { linter, lintGutter, lintKeymap, forceLinting } from "@codemirror/lint";
export { autocompletion, completionKeymap } from "@codemirror/autocomplete";
export { parseDocument, isMap, isSeq, isPair, isScalar } from "yaml";
export { Validator } from "@cfworker/json-schema";
