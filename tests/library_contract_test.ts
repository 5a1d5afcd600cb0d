/**
 * The contract of issue "the node as a library": the program below, exactly
 * as written there (paths substituted), runs from the repository root with
 * `deno run -A`, prints 5 and 9 and exits 0.
 *
 * @module
 */

import assert from "node:assert/strict";
import { keyDir, ROOT, run } from "./helpers.ts";

/** The contract program, verbatim. */
const PROGRAM = `import { serve } from "./core/mod.ts";
import { connectCall, OperationRegistry } from "./call/mod.ts";

const calls = new OperationRegistry();
calls.register({
  name: "demo/add", type: "query",
  input_schema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
  handler: ({ a, b }: { a: number; b: number }) => a + b,
});
const node = await serve({
  listen: ["127.0.0.1:0", "tls://127.0.0.1:0"],
  hostKey: "HOST_KEY_PATH", authorizedKeys: "AUTHORIZED_KEYS_PATH",
  tls: { selfSigned: true }, dataDir: "DATA_DIR", calls, logger: false,
});
const [sshUrl, tlsUrl] = node.addresses;          // "ssh://127.0.0.1:PORT" (or tcp://), "tls://127.0.0.1:PORT"
const c = await connectCall(sshUrl, { identity: "ID_KEY_PATH", hostKeyFingerprint: node.hostKeyFingerprint });
console.log(await c.call("demo/add", { a: 2, b: 3 }));   // 5
const t = await connectCall(tlsUrl, { identity: "ID_KEY_PATH", tlsFingerprint: node.tlsFingerprint });
console.log(await t.call("demo/add", { a: 4, b: 5 }));   // 9
await c.close(); await t.close(); await node.shutdown();
`;

Deno.test("library contract: serve() and connectCall() over ssh:// and tls:// print 5 and 9", async () => {
  const { dir, host, id } = await keyDir();
  // In the repository root, so "./core/mod.ts" and the workspace resolve as written.
  const file = `${ROOT}.contract-${crypto.randomUUID()}.ts`;
  try {
    const program = PROGRAM
      .replace("HOST_KEY_PATH", host.path)
      .replace("AUTHORIZED_KEYS_PATH", `${dir}/authorized_keys`)
      .replace("DATA_DIR", `${dir}/data`)
      .replaceAll("ID_KEY_PATH", id.path);
    await Deno.writeTextFile(file, program);
    const r = await run(Deno.execPath(), ["run", "-A", "--quiet", file], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["5", "9"], r.stderr);
  } finally {
    await Deno.remove(file).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
