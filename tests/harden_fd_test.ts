// Listeners never die and never starve: a node limited to 1,024 open files
// (`sh -c 'ulimit -n 1024; exec ...'`) takes 1,050 silent TLS connections and 400 slow-HTTP ones
// at once (far more file descriptors than it has: its accept loop hits EMFILE), keeps running,
// closes them at the handshake and header deadlines, and then serves `alknet connect` over
// tls:// and curl through it, with its open files back near where they started.
import assert from "node:assert/strict";
import { selfSignedCertificate } from "../core/transport/mod.ts";
import { httpServer, keyDir, Proc, requireTool, ROOT, run } from "./helpers.ts";

/** Open file descriptors of a process (from /proc). */
async function openFiles(pid: number): Promise<number> {
  let n = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) n++;
  return n;
}

/** Waits (bounded) until `pid`'s open files stop changing; returns the count. */
async function settledOpenFiles(pid: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const n = await openFiles(pid);
    if (n === last) return n;
    last = n;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

function hostile(args: string[]): Proc {
  // Its own process with room for its connections (each needs a descriptor here too).
  return Proc.spawn("sh", [
    "-c",
    `ulimit -n 4096 && exec "${Deno.execPath()}" run -A --quiet "${ROOT}tests/hostile.ts" "$@"`,
    "hostile",
    ...args,
  ]);
}

Deno.test("ulimit -n 1024: 1,050 silent TLS + 400 slow-HTTP connections, then connect + curl work and open files return", async () => {
  await requireTool("curl");
  const { dir, id } = await keyDir();
  const ck = await selfSignedCertificate(dir);
  await Deno.writeTextFile(`${dir}/tls.crt`, ck.cert);
  await Deno.writeTextFile(`${dir}/tls.key`, ck.key);
  // No per-address cap: every connection comes from 127.0.0.1, and the point is to run the
  // process out of descriptors. Deadlines: the default 10 s TLS handshake, a 10 s header.
  await Deno.writeTextFile(
    `${dir}/alknet.toml`,
    "[limits]\nmax_unauthenticated_per_ip = 0\nmax_connections_per_ip = 0\ntls_handshake_timeout_s = 6\nhttp_header_timeout_s = 6\n",
  );
  const serveArgs = [
    "run",
    "-A",
    "--quiet",
    `${ROOT}cli.ts`,
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--listen",
    "tls://127.0.0.1:0",
    "--tls-cert",
    `${dir}/tls.crt`,
    "--tls-key",
    `${dir}/tls.key`,
    "--host-key",
    `${dir}/host`,
    "--authorized-keys",
    `${dir}/authorized_keys`,
    "--config",
    `${dir}/alknet.toml`,
  ];
  const node = Proc.spawn("sh", [
    "-c",
    `ulimit -n 1024 && exec "${Deno.execPath()}" "$@"`,
    "serve",
    ...serveArgs,
  ]);
  const web = httpServer("after the storm\n");
  let client: Proc | undefined;
  try {
    const tlsPort = Number(
      (await node.waitFor(/listening addr=127\.0\.0\.1:(\d+) transport=tls/))[1],
    );
    const limits = await Deno.readTextFile(`/proc/${node.pid}/limits`);
    assert.match(limits, /Max open files\s+1024\s/, "the node runs with 1,024 open files");
    const baseline = await settledOpenFiles(node.pid);

    const silent = hostile([
      "--kind",
      "silent",
      "--port",
      String(tlsPort),
      "--count",
      "1050",
      "--concurrency",
      "200",
      "--hold-ms",
      "120000",
    ]);
    const slow = hostile([
      "--kind",
      "tls-slow-http",
      "--port",
      String(tlsPort),
      "--count",
      "400",
      "--concurrency",
      "100",
      "--ca",
      `${dir}/tls.crt`,
      "--hold-ms",
      "120000",
    ]);
    for (const p of [silent, slow]) {
      const done = JSON.parse((await p.waitFor(/"event":"done"/, 180_000)).input!);
      assert.equal(done.open, 0, "every hostile connection was closed by the node");
      await p.wait();
    }
    // The accept loop ran out of descriptors, said so, and kept going.
    await node.waitFor(/accept failed addr=127\.0\.0\.1:\d+ transport=tls error=EMFILE/, 1000);
    await node.waitFor(/reason=tls-handshake-timeout/, 1000);

    // Still serving: alknet connect over tls:// and curl through its SOCKS proxy.
    client = Proc.alknet([
      "connect",
      `tls://127.0.0.1:${tlsPort}`,
      "--tls-ca",
      `${dir}/tls.crt`,
      "--identity",
      id.path,
      "--known-hosts",
      `${dir}/known_hosts`,
      "--socks5",
      "127.0.0.1:0",
    ]);
    const socks = Number((await client.waitFor(/socks5 listening addr=127\.0\.0\.1:(\d+)/))[1]);
    const r = await run("curl", [
      "-sS",
      "--max-time",
      "20",
      "--retry",
      "5",
      "--retry-connrefused",
      "--socks5-hostname",
      `127.0.0.1:${socks}`,
      `http://127.0.0.1:${web.port}/`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "after the storm\n");
    await node.waitFor(/accept resumed addr=127\.0\.0\.1:\d+ transport=tls failures=\d+/, 5000);
    await client.stop();
    client = undefined;

    // Open files come back near where they started (bounded wait).
    let now = await openFiles(node.pid);
    for (let i = 0; i < 100 && now > baseline + 16; i++) {
      await new Promise((r) => setTimeout(r, 300));
      now = await openFiles(node.pid);
    }
    assert.ok(now <= baseline + 16, `open files: ${baseline} before, ${now} after`);
  } finally {
    await client?.stop();
    const status = await node.stop();
    await web.close();
    await Deno.remove(dir, { recursive: true });
    // The node was alive to the end and stopped cleanly on SIGTERM.
    assert.equal(status.code, 0, node.lines.slice(-20).join("\n"));
  }
});
