// The WebSocket call server outlives a descriptor flood: a server limited to 128 open files
// (`sh -c 'ulimit -n 128; exec ...'`) is sent 200 connections at once (its accept hits
// EMFILE, which ends Deno.serve's accept loop), and once they are gone it serves calls again
// on the same port. Run with `--serve` this file is that server (it prints its port).
import assert from "node:assert/strict";
import { connectCall } from "./connect.ts";
import { serveCallWebSocket } from "./carrier_ws.ts";
import { OperationRegistry } from "./registry.ts";

async function serveForTest(): Promise<void> {
  // Deno binds signals lazily, and panics when that finds no descriptor
  // left (ext/signals, Deno 2.9.6): bind now, while there are some.
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  const registry = new OperationRegistry();
  registry.register({ name: "t/echo", type: "query", handler: (x) => x });
  const server = await serveCallWebSocket({ registry });
  console.log(server.addr.port);
  for await (const _ of Deno.stdin.readable) { /* until the test closes stdin */ }
  await server.close();
}

/** A call over a fresh connection; the error when it fails. */
async function callOnce(port: number, value: number): Promise<unknown> {
  const conn = await connectCall(`ws://127.0.0.1:${port}/alknet/call`, {
    connectTimeoutMs: 2000,
  });
  try {
    return await conn.call("t/echo", value, { timeoutMs: 2000 });
  } finally {
    await conn.close();
  }
}

Deno.test("ws carrier: ulimit -n 128, 200 connections at once, then calls work on the same port", async () => {
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n 128 && exec "${Deno.execPath()}" run -A --quiet "${import.meta.filename}" --serve`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const flood: Deno.Conn[] = [];
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    for (let i = 0; i < 100 && !line.includes("\n"); i++) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the server exited before printing its port");
      line += value;
    }
    reader.releaseLock();
    const port = Number(line.trim());
    assert.ok(port > 0, `no port in ${JSON.stringify(line)}`);
    assert.equal(await callOnce(port, 1), 1);

    let refused = 0;
    for (let i = 0; i < 200; i++) {
      try {
        flood.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch {
        refused++; // between the failed accept and the new listener
      }
    }
    assert.ok(flood.length + refused === 200 && flood.length >= 64, `${flood.length} connected`);
    await new Promise((r) => setTimeout(r, 300));
    for (const c of flood.splice(0)) c.close();

    // Bounded: the listener retries after at most a second.
    let answer: unknown;
    let last: unknown;
    for (let i = 0; i < 50 && answer === undefined; i++) {
      try {
        answer = await callOnce(port, 2);
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(answer, 2, `no call got through after the flood: ${last}`);
    console.log(`(${refused} of the 200 were refused while the listener was being reopened)`);
  } finally {
    for (const c of flood) c.close();
    await child.stdin.close().catch(() => {});
    try {
      Deno.kill(child.pid, "SIGTERM");
    } catch { /* exited */ }
    await child.status;
  }
});

if (import.meta.main && Deno.args.includes("--serve")) await serveForTest();
