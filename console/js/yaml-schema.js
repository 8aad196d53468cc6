// A trigger file checked against the project's JSON Schema, for the YAML editor
// (yaml-editor.js): problems at line:column, and the fields and values that fit at a position.
//
// Validation is the schema's own (@cfworker/json-schema, draft 2020-12, no code generation, so
// no 'unsafe-eval' under the console's CSP); this module only decides WHERE a problem is and
// says it plainly. A oneOf/anyOf is narrowed before explaining: an action by its `type`
// (the schema's discriminator), a condition by the keys it has, a nullable field by its value's
// type; a problem is then said inside the branch meant, not as "matches none of 9 shapes".
// The server checks the file again on validate and push (the editor only helps).

import { Validator, isMap, isPair, isScalar, isSeq, parseDocument } from "../vendor/yaml-editor.bundle.js";

const MAX_PROBLEMS = 50;

/** A value's JSON type, as the schema names them (integer is also a number). */
function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function isObject(value) {
  return typeOf(value) === "object";
}

function typeAllows(type, value) {
  const types = Array.isArray(type) ? type : [type];
  const actual = typeOf(value);
  return types.includes(actual) || (actual === "integer" && types.includes("number"));
}

const A_TYPE = {
  string: "text",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  object: "a mapping (key: value lines)",
  array: "a list (- items)",
  null: "nothing",
};

function describeType(type) {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => A_TYPE[t] || t).join(" or ");
}

/** Offsets to 1-based line and column. */
class Lines {
  constructor(text) {
    this.starts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.starts.push(i + 1);
  }

  at(offset) {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low + 1, column: offset - this.starts[low] + 1 };
  }
}

export class TriggerSchema {
  /** schema: the trigger file's JSON Schema (parsed JSON); null checks YAML syntax only. */
  constructor(schema) {
    this.root = schema;
    this.validators = new Map();
    this.shallows = new Map();
  }

  // ---- the schema ------------------------------------------------------------------------

  resolve(node) {
    let seen = 0;
    while (node && typeof node === "object" && typeof node.$ref === "string" && seen++ < 32) {
      const target = node.$ref
        .replace(/^#\/?/, "")
        .split("/")
        .filter(Boolean)
        .reduce((at, part) => (at == null ? at : at[part.replaceAll("~1", "/").replaceAll("~0", "~")]), this.root);
      node = target;
    }
    return node;
  }

  validator(node) {
    let validator = this.validators.get(node);
    if (!validator) {
      const schema = node === this.root ? node : { ...node, $defs: this.root.$defs };
      validator = new Validator(schema, "2020-12", false);
      this.validators.set(node, validator);
    }
    return validator;
  }

  /** The branches of a oneOf/anyOf/allOf node, resolved and flattened (nullable parts kept). */
  alternatives(node) {
    node = this.resolve(node);
    if (!node || typeof node !== "object") return [];
    const branches = node.oneOf || node.anyOf || node.allOf;
    if (!branches) return [node];
    return branches.flatMap((branch) => this.alternatives(branch));
  }

  /** The one branch of a oneOf/anyOf the value is meant to be, or null. */
  narrow(value, node) {
    const discriminator = node.discriminator;
    if (discriminator && isObject(value)) {
      const tag = value[discriminator.propertyName];
      const target = typeof tag === "string" ? discriminator.mapping?.[tag] : undefined;
      return target ? this.resolve({ $ref: target }) : null;
    }
    const branches = (node.oneOf || node.anyOf).map((branch) => this.resolve(branch));
    const fitting = branches.filter((branch) => this.couldBe(value, branch));
    if (fitting.length === 1) return fitting[0];
    if (isObject(value)) {
      const keyed = fitting.filter((branch) => (branch.required || []).every((key) => key in value));
      if (keyed.length === 1) return keyed[0];
    }
    return null;
  }

  couldBe(value, branch) {
    if (!branch || typeof branch !== "object") return branch === true;
    if (branch.type !== undefined) return typeAllows(branch.type, value);
    if (branch.const !== undefined) return branch.const === value;
    if (branch.properties) return isObject(value);
    const branches = branch.oneOf || branch.anyOf;
    if (branches) return branches.some((b) => this.couldBe(value, this.resolve(b)));
    return true;
  }

  // ---- problems --------------------------------------------------------------------------

  /**
   * What is wrong with the value under the schema node: [{path, at, message}], `at` naming
   * what to underline: "key" (the path's last key), "value", or "object" (its first line).
   */
  explain(value, node, path = []) {
    node = this.resolve(node);
    if (node === true || node === undefined || node === null) return [];
    if (node === false) return [{ path, at: "key", message: "is not allowed here" }];
    if (node.oneOf || node.anyOf) {
      const branch = this.narrow(value, node);
      if (branch) return this.explain(value, branch, path);
      return this.validator(node).validate(value).valid ? [] : this.explainChoice(value, node, path);
    }
    // The node's own keywords first (type, const, pattern, lengths...), then each part once:
    // each value is validated at its own level only, so a long file costs its size, not its
    // size times its depth.
    const own = this.validator(this.shallow(node)).validate(value);
    if (!own.valid) {
      const [first] = own.errors.filter((error) => !CONTAINERS.has(error.keyword));
      return [{ path, at: "value", message: this.say(first, node, value) }];
    }
    if (isObject(value)) return this.explainObject(value, node, path);
    if (Array.isArray(value) && node.items) {
      return value.flatMap((item, index) => this.explain(item, node.items, [...path, index]));
    }
    return [];
  }

  /** The node without the keywords about its parts (explain checks those part by part). */
  shallow(node) {
    let shallow = this.shallows.get(node);
    if (!shallow) {
      shallow = Object.fromEntries(Object.entries(node).filter(([keyword]) => !PARTS.has(keyword)));
      this.shallows.set(node, shallow);
    }
    return shallow;
  }

  explainChoice(value, node, path) {
    const discriminator = node.discriminator;
    if (discriminator && isObject(value)) {
      const key = discriminator.propertyName;
      const allowed = Object.keys(discriminator.mapping || {}).join(", ");
      if (!(key in value)) return [{ path, at: "object", message: `needs a ${key}: one of ${allowed}` }];
      const message = `unknown ${key} ${JSON.stringify(value[key])}: expected one of ${allowed}`;
      return [{ path: [...path, key], at: "value", message }];
    }
    const shapes = (node.oneOf || node.anyOf).map((b) => this.describe(this.resolve(b)));
    return [{ path, at: "value", message: `expected ${[...new Set(shapes)].join(", or ")}` }];
  }

  explainObject(value, node, path) {
    const problems = [];
    const properties = node.properties || {};
    for (const key of node.required || []) {
      if (!(key in value)) problems.push({ path, at: "object", message: `missing required field "${key}"` });
    }
    for (const [key, item] of Object.entries(value)) {
      if (key in properties) problems.push(...this.explain(item, properties[key], [...path, key]));
      else if (node.additionalProperties === false) {
        const known = Object.keys(properties);
        const close = known.find((name) => similar(name, key));
        const hint = close ? ` (did you mean "${close}"?)` : known.length ? `; allowed: ${known.join(", ")}` : "";
        problems.push({ path: [...path, key], at: "key", message: `unknown field "${key}"${hint}` });
      } else if (node.additionalProperties && typeof node.additionalProperties === "object") {
        problems.push(...this.explain(item, node.additionalProperties, [...path, key]));
      }
    }
    return problems;
  }

  describe(node) {
    if (!node || typeof node !== "object") return "something else";
    if (node.title && node.properties) return `a ${node.title}`;
    if (node.type) return node.description && node.type === "string" ? node.description : describeType(node.type);
    if (node.const !== undefined) return JSON.stringify(node.const);
    return node.title || "another shape";
  }

  say(error, node, value) {
    if (!error) return "is not valid here";
    switch (error.keyword) {
      case "type":
        return `expected ${describeType(node.type)}, found ${A_TYPE[typeOf(value)] || typeOf(value)}`;
      case "const":
        return `must be ${JSON.stringify(node.const)}`;
      case "enum":
        return `must be one of ${node.enum.map((v) => JSON.stringify(v)).join(", ")}`;
      case "pattern":
        return node.description ? `expected ${node.description}` : `does not match the pattern ${node.pattern}`;
      case "minLength":
        return node.minLength === 1 ? "must not be empty" : `must be at least ${node.minLength} characters`;
      case "maxLength":
        return `must be at most ${node.maxLength} characters`;
      case "minItems":
        return `needs at least ${node.minItems} item${node.minItems === 1 ? "" : "s"}`;
      case "maxItems":
        return `may have at most ${node.maxItems} items`;
      case "minimum":
      case "exclusiveMinimum":
      case "maximum":
      case "exclusiveMaximum": {
        const strictly = error.keyword.startsWith("exclusive") ? "strictly " : "";
        const bound = error.keyword.endsWith("inimum") ? "at least" : "at most";
        return `must be ${strictly}${bound} ${node[error.keyword]}`;
      }
      default:
        return String(error.error || "is not valid here").replace(/^Instance /, "");
    }
  }

  /**
   * Every problem of a trigger file's text: [{from, to, line, column, message}], in order.
   * YAML syntax errors come alone (a broken file's structure would mislead the schema check).
   */
  diagnose(text) {
    const lines = new Lines(text);
    const place = (from, to, message) => ({ from, to: Math.max(to, from), ...lines.at(from), message });
    let document;
    try {
      document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
    } catch (error) {
      return [place(0, 0, String(error.message || error))];
    }
    if (document.errors.length) {
      return document.errors.slice(0, MAX_PROBLEMS).map((error) => {
        const [from, to] = error.pos || [0, 0];
        return place(Math.min(from, text.length), Math.min(to, text.length), plain(error.message));
      });
    }
    if (!this.root) return [];
    let value;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      return [place(0, 0, plain(error.message))];
    }
    if (value === undefined || value === null) {
      return [place(0, 0, "the file is empty: it needs at least `version: 1`")];
    }
    return this.explain(value, this.root)
      .slice(0, MAX_PROBLEMS)
      .map((problem) => {
        const [from, to] = locate(document.contents, problem.path, problem.at, text);
        return place(from, to, problem.message);
      })
      .sort((a, b) => a.from - b.from);
  }

  // ---- completion ------------------------------------------------------------------------

  /** The schema node at a path of keys and item indexes; a key picks the branch that has it. */
  nodeAt(path) {
    let nodes = [this.root];
    for (const segment of path) {
      const next = [];
      for (const node of nodes) {
        for (const branch of this.alternatives(node)) {
          if (typeof segment === "number" && branch.items) next.push(branch.items);
          else if (typeof segment === "string" && branch.properties?.[segment]) next.push(branch.properties[segment]);
        }
      }
      if (!next.length) return [];
      nodes = next;
    }
    return nodes;
  }

  /** The object branches at the nodes, narrowed by the mapping's known keys (siblings). */
  objectsAt(nodes, siblings) {
    const objects = [];
    for (const node of nodes) {
      const resolved = this.resolve(node);
      const discriminator = resolved?.discriminator;
      const tag = discriminator && siblings[discriminator.propertyName];
      if (tag && discriminator.mapping?.[tag]) {
        objects.push(this.resolve({ $ref: discriminator.mapping[tag] }));
        continue;
      }
      for (const branch of this.alternatives(resolved)) {
        if (branch.items) objects.push(...this.objectsAt([branch.items], siblings));
        else if (branch.properties) objects.push(branch);
      }
    }
    // The shapes that have every key already written (a condition with `field:` is a field
    // condition, not an `all:` group); if none has them all, every shape.
    const keys = Object.keys(siblings);
    const fitting = objects.filter((object) => keys.every((key) => key in object.properties));
    return fitting.length ? fitting : objects;
  }

  /**
   * What fits at a position: {from, options: [{label, type, detail, info, apply}]}, or null.
   * A key position offers the mapping's fields (not those present); after `key: ` its values
   * (an action's type, true/false, a const or enum).
   */
  complete(text, position) {
    const context = contextAt(text, position);
    if (!context || !this.root) return null;
    const nodes = this.nodeAt(context.path);
    const objects = this.objectsAt(nodes, context.siblings);
    if (context.key === undefined) {
      const options = new Map();
      for (const object of objects) {
        for (const [name, property] of Object.entries(object.properties)) {
          if (name in context.siblings || options.has(name)) continue;
          const resolved = this.resolve(property);
          options.set(name, {
            label: name,
            type: "property",
            detail: (object.required || []).includes(name) ? "required" : "",
            info: resolved?.description || resolved?.title || "",
            apply: `${name}: `,
            boost: name === "type" || name === "name" ? 2 : (object.required || []).includes(name) ? 1 : 0,
          });
        }
      }
      return { from: context.from, options: [...options.values()] };
    }
    const values = new Map();
    for (const object of objects) {
      const property = object.properties[context.key];
      if (!property) continue;
      for (const option of this.values(property)) values.set(option.label, option);
    }
    return values.size ? { from: context.from, options: [...values.values()] } : null;
  }

  values(property) {
    const options = [];
    for (const branch of this.alternatives(property)) {
      const info = branch.description || "";
      if (branch.const !== undefined) options.push({ label: String(branch.const), type: "constant", info });
      for (const item of branch.enum || []) options.push({ label: String(item), type: "enum", info });
      if (branch.type === "boolean") {
        options.push({ label: "true", type: "keyword" }, { label: "false", type: "keyword" });
      }
    }
    return options;
  }
}

// The keywords about an object's or a list's parts, checked by explain() part by part.
const PARTS = new Set(["properties", "required", "additionalProperties", "items", "prefixItems", "patternProperties"]);
// cfworker's errors that only say "a part below failed" (the part's own error follows).
const CONTAINERS = new Set([
  "properties", "items", "$ref", "allOf", "anyOf", "oneOf", "additionalProperties", "false", "if", "then", "else",
]);

/** A YAML error's message without its position (the list shows line:column). */
function plain(message) {
  return String(message).split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

/** Two field names one typo apart: a letter more, less or changed, or two swapped. */
function similar(a, b) {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (a[i] === b[i]) i++;
  const tail = (word, skip) => word.slice(i + skip);
  const swapped = a[i] === b[i + 1] && a[i + 1] === b[i] && tail(a, 2) === tail(b, 2);
  return swapped || tail(a, 1) === tail(b, 1) || tail(a, 1) === tail(b, 0) || tail(a, 0) === tail(b, 1);
}

/** The text range [from, to] of a path in the parsed YAML, for what `at` names. */
function locate(root, path, at, text) {
  let node = root;
  let pair = null;
  for (const segment of path) {
    if (isMap(node)) {
      const named = (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment);
      pair = node.items.find(named) || null;
      if (!pair) break;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      pair = null;
      node = node.items[segment];
    } else break;
  }
  if (at === "key" && pair?.key?.range) return [pair.key.range[0], pair.key.range[1]];
  const empty = isScalar(node) && node.range?.[0] === node.range?.[1];
  if (at === "value" && node?.range && !empty) return [node.range[0], node.range[1]];
  if (at === "value" && pair?.key?.range) return [pair.key.range[0], pair.key.range[1]];
  const start = node?.range ? node.range[0] : pair?.key?.range ? pair.key.range[0] : 0;
  const end = text.indexOf("\n", start);
  return [start, end === -1 ? text.length : end];
}

/**
 * Where the cursor is in a block-style YAML mapping, from the text alone (a file being typed
 * rarely parses): {path, key?, from, siblings}. `path` leads from the root to the mapping the
 * cursor is in (keys and item indexes, 0 for any item); `key` is set when the cursor is after
 * `key: `; `siblings` are the mapping's other `key: value` lines.
 */
export function contextAt(text, position) {
  const lineStart = text.lastIndexOf("\n", position - 1) + 1;
  const before = text.slice(lineStart, position);
  const keyMatch = before.match(/^(\s*(?:-\s+)*)([A-Za-z_][\w-]*)?$/);
  const valueMatch = before.match(/^(\s*(?:-\s+)*)([A-Za-z_][\w-]*):\s+([\w.-]*)$/);
  if (!keyMatch && !valueMatch) return null;
  const match = keyMatch || valueMatch;
  const column = match[1].length;
  const lines = text.slice(0, lineStart).split("\n");
  lines.pop(); // the empty piece after the last newline before the cursor's line
  const path = [];
  // The cursor's own line: each "- " opens an item; the mapping sits at `column`.
  let dashes = dashColumns(match[1]);
  let looking = { kind: "map", column };
  if (dashes.length) {
    path.unshift(...dashes.map(() => 0));
    looking = { kind: "seq", column: dashes[0] };
  }
  const siblings = {};
  let inOwnMap = !dashes.length;
  for (let i = lines.length - 1; i >= 0 && looking; i--) {
    const line = parseLine(lines[i]);
    if (!line) continue;
    if (looking.kind === "map") {
      if (line.keyColumn > looking.column) continue;
      if (line.keyColumn === looking.column) {
        if (inOwnMap && line.key) siblings[line.key] = line.value;
        if (line.dashes.length) {
          path.unshift(...line.dashes.map(() => 0));
          looking = { kind: "seq", column: line.dashes[0] };
          inOwnMap = false;
        }
        continue;
      }
      if (!line.key || line.value) return null; // a parent must be `key:` alone
      path.unshift(line.key);
      inOwnMap = false;
      looking = parentOf(line);
      if (line.dashes.length) path.unshift(...line.dashes.map(() => 0));
      continue;
    }
    // Looking for the key that holds a list whose dashes are at looking.column.
    if (line.dashes.length && line.dashes[0] === looking.column) continue; // an earlier item
    if (line.keyColumn > looking.column) continue; // inside an earlier item
    if (!line.key || line.value) return null;
    path.unshift(line.key);
    looking = parentOf(line);
    if (line.dashes.length) path.unshift(...line.dashes.map(() => 0));
  }
  // The rest of the cursor's mapping below the cursor: its other keys.
  const after = text.slice(position).split("\n").slice(1);
  for (const raw of after) {
    const line = parseLine(raw);
    if (!line) continue;
    if (line.keyColumn < column || line.dashes.some((dash) => dash < column)) break; // the mapping ended
    if (line.keyColumn === column && line.key) siblings[line.key] = line.value;
  }
  if (valueMatch) {
    return { path, key: valueMatch[2], from: position - valueMatch[3].length, siblings };
  }
  return { path, from: position - (keyMatch[2] || "").length, siblings };
}

/** What holds a `key:` line's mapping: the list of its first dash, or a mapping at its column. */
function parentOf(line) {
  return line.dashes.length ? { kind: "seq", column: line.dashes[0] } : { kind: "map", column: line.keyColumn };
}

function dashColumns(prefix) {
  const columns = [];
  for (let i = 0; i < prefix.length; i++) if (prefix[i] === "-") columns.push(i);
  return columns;
}

/** One block-YAML line: {dashes, keyColumn, key, value}, or null for blank and comment lines. */
function parseLine(raw) {
  const match = raw.match(/^(\s*(?:-\s+)*)(.*)$/);
  const content = match[2];
  if (!content.trim() || content.trimStart().startsWith("#")) {
    if (!match[1].includes("-")) return null;
  }
  const pair = content.match(/^([A-Za-z_][\w-]*|"[^"]*"|'[^']*'):(?:\s+(.*))?$/);
  const value = pair?.[2]?.replace(/\s+#.*$/, "").replace(/^["']|["']$/g, "").trim() ?? "";
  return {
    dashes: dashColumns(match[1]),
    keyColumn: match[1].length,
    key: pair ? pair[1].replace(/^["']|["']$/g, "") : null,
    value,
  };
}
