// Builds console/vendor/yaml-editor.bundle.js (one minified ES module) and
// console/vendor/LICENSES.txt (the license of every package inside it) from entry.js and the
// exact versions in package-lock.json. Run by `make console-editor` (npm ci first); the
// output is committed, so neither CI nor the deploy needs Node.
//
// The bundle's first line names every package in it with its version; a unit test
// (tests/unit/test_console_editor_bundle.py) checks it against package-lock.json and
// LICENSES.txt.

import { build } from "esbuild";
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "..", "..", "console", "vendor");
const bundlePath = join(vendor, "yaml-editor.bundle.js");

/** The package a bundled file belongs to: node_modules/@scope/name/... or node_modules/name/... */
function packageOf(input) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  return match ? match[1] : null;
}

/** The package's own license file, else licenses/<scope__name>.txt (a package that ships none). */
function licenseText(name) {
  const folder = join(here, "node_modules", name);
  const file = readdirSync(folder).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  const path = file ? join(folder, file) : join(here, "licenses", `${name.replace("/", "__")}.txt`);
  return readFileSync(path, "utf8").trim();
}

const result = await build({
  entryPoints: [join(here, "entry.js")],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  legalComments: "none",
  metafile: true,
  write: false,
  logLevel: "warning",
});

// The packages with code in the output (tree shaking can leave an imported package empty).
const [output] = Object.values(result.metafile.outputs);
const inOutput = Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0);
const names = [...new Set(inOutput.map(([path]) => packageOf(path)).filter(Boolean))].sort();
const packages = names.map((name) => {
  const manifest = JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8"));
  return { name, version: manifest.version, license: manifest.license };
});

const banner =
  "/*! yaml-editor.bundle.js: built by tools/console-editor (make console-editor), do not edit. " +
  "Packages: " +
  packages.map((p) => `${p.name}@${p.version}`).join(" ") +
  ". Licenses: LICENSES.txt */\n";
const licenses = packages
  .map((p) => `${"=".repeat(72)}\n${p.name}@${p.version} (${p.license})\n${"=".repeat(72)}\n\n${licenseText(p.name)}\n`)
  .join("\n");

mkdirSync(vendor, { recursive: true });
writeFileSync(bundlePath, banner + result.outputFiles[0].text);
writeFileSync(
  join(vendor, "LICENSES.txt"),
  "Third-party software in yaml-editor.bundle.js (tools/console-editor/package-lock.json).\n\n" + licenses,
);
console.log(`${bundlePath}: ${packages.length} packages, ${(banner.length + result.outputFiles[0].contents.length)} bytes`);
