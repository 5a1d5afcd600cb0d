// The import graph of the whole repository: no cycles anywhere, core's layers
// point one way (util ← transport ← auth ← ssh ← node ← config), call/ uses
// only core's transport, auth and ssh layers, and vault/, flowgraph/ and
// storage/ import nothing of ours. Doc-comment examples are not imports.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  findCycles,
  importGraph,
  importSpecifiers,
  layerViolation,
  placeOf,
} from "./import_graph.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

Deno.test("import graph: the lexer finds imports and nothing else", () => {
  const src = [
    `import { a } from "./a.ts";`,
    `import type { B } from '../b.ts';`,
    `import "./side.ts";`,
    `export * from "./c.ts";`,
    `export { d as e } from "@alknet/core/transport";`,
    `const m = await import("./lazy.ts");`,
    `const n = await import(name);`,
    `/**`,
    ` * @example`,
    " * ```ts",
    ` * import { serve } from "@alknet/core";`,
    " * ```",
    ` */`,
    `// import { x } from "./commented.ts";`,
    'const child = `import { y } from "./in_template.ts"; ${`nested ${1}`}`;',
    `const s = "import { z } from './in_string.ts'";`,
    `const re = /from "x"/g;`,
    `const half = 1 / 2; const q = 3 / 4;`,
    `const arr = Array.from("abc");`,
    `export const from = 1;`,
    'const t = `a ${ { k: `b` }.k } c`; import { after } from "./after.ts";',
  ].join("\n");
  assert.deepEqual(importSpecifiers(src), [
    "./a.ts",
    "../b.ts",
    "./side.ts",
    "./c.ts",
    "@alknet/core/transport",
    "./lazy.ts",
    "./after.ts",
  ]);
});

Deno.test("import graph: the layer rules", () => {
  const v = (from: string, to: string) => layerViolation({ from, to, spec: "" });
  assert.equal(v("core/ssh/server.ts", "core/transport/tcp.ts"), undefined);
  assert.equal(v("core/transport/tcp.ts", "core/util/errors.ts"), undefined);
  assert.equal(v("core/config/reload.ts", "core/node/serve.ts"), undefined);
  assert.equal(v("core/mod.ts", "core/node/serve.ts"), undefined);
  assert.match(v("core/transport/x.ts", "core/auth/policy.ts")!, /points up/);
  assert.match(v("core/ssh/x.ts", "core/node/serve.ts")!, /points up/);
  assert.match(v("core/ssh/x.ts", "core/mod.ts")!, /points up/);
  assert.match(v("core/node/x.ts", "call/mod.ts")!, /nothing of ours outside core/);
  assert.equal(v("call/x.ts", "core/transport/mod.ts"), undefined);
  assert.equal(v("call/x.ts", "core/ssh/mod.ts"), undefined);
  assert.match(v("call/x.ts", "core/mod.ts")!, /transport, auth and ssh layers only/);
  assert.match(v("call/x.ts", "core/node/serve.ts")!, /transport, auth and ssh layers only/);
  assert.match(v("vault/x.ts", "core/mod.ts")!, /imports nothing of ours/);
  assert.match(v("storage/x.ts", "call/mod.ts")!, /imports nothing of ours/);
  assert.equal(v("cli/serve.ts", "core/mod.ts"), undefined);
  assert.equal(v("tests/x.ts", "core/node/serve.ts"), undefined);
  assert.deepEqual(placeOf("mod.ts"), { pkg: "root" });
});

Deno.test("import graph: no cycles, and every import points down the layers", async () => {
  const { files, edges, unresolved } = await importGraph(ROOT);
  assert.ok(
    files.length > 100 && edges.length > 300,
    `${files.length} files, ${edges.length} edges`,
  );
  const problems: string[] = [];
  for (const u of unresolved) problems.push(`unresolved: ${u.from} imports '${u.spec}'`);
  for (const cycle of findCycles(edges)) problems.push(`cycle: ${cycle.join(" → ")}`);
  for (const e of edges) {
    const why = layerViolation(e);
    if (why) problems.push(`layer: ${e.from} → ${e.to} ('${e.spec}'): ${why}`);
  }
  assert.deepEqual(problems, [], "\n" + problems.join("\n"));
});
