// Checks a trigger file off the page's thread, for the YAML editor (yaml-editor.js): parsing and
// checking the largest file the store accepts (300 KB) takes up to a second, which on the page
// would freeze typing. Messages in: {schema} once, then {id, text}; out: {id, problems}.

import { TriggerSchema } from "./yaml-schema.js";

let checker = new TriggerSchema(null);

self.addEventListener("message", ({ data }) => {
  if (data && "schema" in data) checker = new TriggerSchema(data.schema);
  if (data && typeof data.text === "string") {
    self.postMessage({ id: data.id, problems: checker.diagnose(data.text) });
  }
});
