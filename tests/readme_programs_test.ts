/**
 * The programs of the README's "Use it from Deno", each run as written from
 * `docs/examples/`, and the README's code blocks equal to those files.
 *
 * @module
 */

import assert from "node:assert/strict";
import { serve } from "@alknet/core";
import { OperationRegistry } from "@alknet/call";
import { keyDir, ROOT, runAlknet } from "./helpers.ts";

/**
 * Starts `deno run -A docs/examples/<name>` in `cwd` (with the repository's
 * configuration); resolves once its output matches `ready`.
 */
async function startExample(name: string, cwd: string, ready: RegExp) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", `${ROOT}deno.json`, `${ROOT}docs/examples/${name}`],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  while (!ready.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  clearTimeout(timer);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await reader.cancel().catch(() => {});
    await child.status;
    return await stderr;
  };
  if (!ready.test(text)) throw new Error(`${name} did not start:\n${text}\n${await stop()}`);
  return { output: text, stop };
}

const PROGRAMS = ["serve_node.ts", "call_ssh.ts", "tunnel_tls.ts"];

Deno.test("README: 'Use it from Deno' shows the three programs exactly as docs/examples/ has them", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf("\n## Use it from Deno\n");
  assert.ok(start >= 0, "README has no 'Use it from Deno' section");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const files = await Promise.all(
    PROGRAMS.map((name) => Deno.readTextFile(`${ROOT}docs/examples/${name}`)),
  );
  assert.deepEqual(blocks, files, "the README's code blocks differ from docs/examples/");
  const lines = (text: string) => text.trimEnd().split("\n").length;
  assert.ok(lines(files[0]) <= 15, `serve_node.ts has ${lines(files[0])} lines (at most 15)`);
  assert.ok(lines(files[1]) <= 10, `call_ssh.ts has ${lines(files[1])} lines (at most 10)`);
});

Deno.test("README program 1: a node serving an operation on SSH, TLS and WebSocket at once", async () => {
  const { dir, host, id } = await keyDir();
  await Deno.copyFile(host.path, `${dir}/host_key`);
  const node = await startExample("serve_node.ts", dir, /SHA256:[0-9a-f]{64}/);
  try {
    const urls = [...node.output.matchAll(/"((?:ssh|tls|ws):\/\/[^"]+)"/g)].map((m) => m[1]);
    assert.equal(urls.length, 3, node.output);
    assert.ok(node.output.includes(host.fingerprint), node.output);
    const [ssh, tls, ws] = urls;
    for (
      const [url, extra] of [
        [ssh, ["--host-key-fingerprint", host.fingerprint]],
        [tls, ["--insecure"]],
        [ws, []],
      ] as [string, string[]][]
    ) {
      const r = await runAlknet(["call", url, "demo/hi", "--identity", id.path, ...extra]);
      assert.equal(r.code, 0, `${url}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout), `hi ${id.fingerprint}`);
    }
  } finally {
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README program 3: a tunnel client over tls:// fetches a page through its SOCKS5 proxy", async () => {
  const { dir, host, id } = await keyDir();
  const ac = new AbortController();
  const web = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    () => new Response("a page only the node can reach\n"),
  );
  const node = await serve({
    listen: ["tls://127.0.0.1:0"],
    hostKey: host.path,
    authorizedKeys: `${dir}/authorized_keys`,
    tls: { selfSigned: true },
    dataDir: dir,
    logger: false,
  });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "--config",
        `${ROOT}deno.json`,
        `${ROOT}docs/examples/tunnel_tls.ts`,
        node.addresses[0],
        id.path,
        node.hostKeyFingerprint,
        node.tlsFingerprint!,
        `http://localhost:${web.addr.port}/`,
      ],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(new TextDecoder().decode(out.stdout), "200 a page only the node can reach\n\n");
  } finally {
    await node.shutdown(0);
    ac.abort();
    await web.finished;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README program 2: a client calls the node's operation over ssh:// with its identity key", async () => {
  const { dir, host, id } = await keyDir();
  const calls = new OperationRegistry();
  calls.register({ name: "demo/hi", type: "query", handler: (_, c) => `hi ${c.identity?.id}` });
  const node = await serve({
    listen: ["127.0.0.1:0"],
    hostKey: host.path,
    authorizedKeys: `${dir}/authorized_keys`,
    dataDir: dir,
    calls,
    logger: false,
  });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "--config",
        `${ROOT}deno.json`,
        `${ROOT}docs/examples/call_ssh.ts`,
        node.addresses[0],
        id.path,
        node.hostKeyFingerprint,
      ],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(new TextDecoder().decode(out.stdout), `hi ${id.fingerprint}\n`);
    assert.match(node.addresses[0], /^ssh:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await node.shutdown(0);
    await Deno.remove(dir, { recursive: true });
  }
});
