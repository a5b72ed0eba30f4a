#!/usr/bin/env node
/**
 * Builds chaos/driver.ts (the PWA's event client driven from Node: tests/realtime/test_chaos.py and
 * the fault bench) into node_modules/.chaos/driver.mjs. Inside node_modules so the bundle's bare
 * imports (ws, fake-indexeddb, idb) resolve from frontend/node_modules at run time.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  configFile: false,
  root,
  logLevel: "warn",
  publicDir: false,
  build: {
    ssr: join(root, "chaos/driver.ts"),
    outDir: join(root, "node_modules/.chaos"),
    emptyOutDir: true,
    target: "node20",
    minify: false,
    sourcemap: false,
    rollupOptions: { output: { entryFileNames: "driver.mjs", format: "es" } },
  },
});
console.log("built node_modules/.chaos/driver.mjs");
