#!/usr/bin/env node
/**
 * Fails (exit 1) when the PWA's source has an import cycle (issue 19: "the PWA has no import cycle").
 *
 * Every import counts: static, dynamic `import()` (a lazy chunk that imports back is still a cycle of
 * modules) and `import type`. Run by `npm test` before Vitest, so `make test` (frontend-test) runs it.
 *
 * Self-test, on every run: the check must find the known cycle in scripts/cycle-fixture/ (through a
 * dynamic and a type-only import) and must have resolved every import of src/ (an import madge cannot
 * resolve would silently drop an edge, and with it maybe a cycle). Either failure fails the build.
 */
import { readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import madge from "madge";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const options = {
  fileExtensions: ["ts", "tsx"],
  tsConfig: join(root, "tsconfig.json"),
  detectiveOptions: { ts: { skipTypeImports: false, skipAsyncImports: false }, tsx: { skipTypeImports: false, skipAsyncImports: false } },
};

function fail(message) {
  console.error(`check-cycles: ${message}`);
  process.exit(1);
}

function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

// 1. Self-test: the fixture's cycle is found, with every module of it, and nothing else is.
const fixture = await madge(join(here, "cycle-fixture"), options);
const found = fixture.circular().map((cycle) => [...cycle].sort().join(" "));
if (found.length !== 1 || found[0] !== "a.ts b.tsx c.ts") {
  fail(`self-test failed: expected the one cycle a.ts -> b.tsx -> c.ts in scripts/cycle-fixture, got ${JSON.stringify(found)}`);
}

// 2. The app.
const src = join(root, "src");
const result = await madge(src, options);
const skipped = result.warnings().skipped;
if (skipped.length) fail(`imports that could not be resolved (the graph would miss them): ${skipped.join(", ")}`);
const graphed = new Set(Object.keys(result.obj()));
const missing = sourceFiles(src)
  .map((f) => relative(src, f))
  .filter((f) => !graphed.has(f));
if (missing.length) fail(`files missing from the import graph: ${missing.join(", ")}`);
const cycles = result.circular();
if (cycles.length) {
  const lines = cycles.map((c, i) => `  ${i + 1}) ${[...c, c[0]].join(" -> ")}`);
  fail(`${cycles.length} import cycle(s) in frontend/src:\n${lines.join("\n")}\nMove the shared piece into a module both sides import (a leaf).`);
}
console.log(`check-cycles: no import cycle in ${graphed.size} modules of frontend/src (self-test passed)`);
