// Pre-auth from accept, banner included: a client that sends `SSH-2.0-partial` without an end of
// line, or one byte a second, is closed at the pre-auth timeout and logged
// `conn rejected ... reason=preauth-timeout`, on plain TCP and inside TLS; the shipped fail2ban
// filter matches the node's own lines (checked with the real fail2ban-regex). Also: the per-address
// cap on unauthenticated connections, and a silent TLS client closed at the handshake deadline.
import assert from "node:assert/strict";
import { selfSignedCertificate } from "../core/transport/mod.ts";
import { keyDir, requireTool, run, startServe } from "./helpers.ts";

const FILTER = new URL("../docs/fail2ban/alknet.conf", import.meta.url).pathname;
const enc = new TextEncoder();

/** Reads until the peer closes (or `timeoutMs`); true when it closed. */
async function closedByPeer(conn: Deno.Conn, timeoutMs: number): Promise<boolean> {
  const buf = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), timeoutMs));
  try {
    while (true) {
      const n = await Promise.race([conn.read(buf).catch(() => null), late]);
      if (n === "late") return false;
      if (n === null) return true;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `line` one byte a second until the peer closes; returns how many bytes went out. */
async function oneBytePerSecond(conn: Deno.Conn, line: string): Promise<number> {
  const bytes = enc.encode(line);
  const closed = closedByPeer(conn, 60_000);
  let stop = false;
  closed.then(() => stop = true);
  let sent = 0;
  for (; sent < bytes.length && !stop; sent++) {
    try {
      await conn.write(bytes.subarray(sent, sent + 1));
    } catch {
      break;
    }
    await Promise.race([new Promise((r) => setTimeout(r, 1000)), closed]);
  }
  assert.ok(await closed, "the server closed the connection");
  return sent;
}

function localPort(conn: Deno.Conn): number {
  return (conn.localAddr as Deno.NetAddr).port;
}

Deno.test("pre-auth from accept: stalled and 1-byte/s banners are closed and logged on tcp and tls; fail2ban matches", async () => {
  await requireTool("fail2ban-regex");
  const { dir } = await keyDir();
  const ck = await selfSignedCertificate(dir);
  await Deno.writeTextFile(`${dir}/tls.crt`, ck.cert);
  await Deno.writeTextFile(`${dir}/tls.key`, ck.key);
  await Deno.writeTextFile(
    `${dir}/alknet.toml`,
    "[limits]\npreauth_timeout_s = 2\ntls_handshake_timeout_s = 1\n",
  );
  const server = await startServe(dir, [
    "--config",
    `${dir}/alknet.toml`,
    "--listen",
    "tls://127.0.0.1:0",
    "--tls-cert",
    `${dir}/tls.crt`,
    "--tls-key",
    `${dir}/tls.key`,
  ]);
  const tlsPort = Number(
    (await server.proc.waitFor(/listening addr=127\.0\.0\.1:(\d+) transport=tls/))[1],
  );
  try {
    // A banner without CRLF on plain TCP.
    const partial = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await partial.write(enc.encode("SSH-2.0-partial"));
    assert.ok(await closedByPeer(partial, 30_000), "closed at the pre-auth timeout");
    partial.close();
    await server.proc.waitFor(
      new RegExp(
        `conn rejected remote=127\\.0\\.0\\.1:${
          localPort(partial)
        } transport=tcp reason=preauth-timeout`,
      ),
    );

    // One byte a second on plain TCP: closed before the banner is complete.
    const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const line = "SSH-2.0-slowloris-client-sending-one-byte-each-second\r\n";
    const sent = await oneBytePerSecond(slow, line);
    slow.close();
    assert.ok(sent < line.length, `closed after ${sent} of ${line.length} bytes`);
    await server.proc.waitFor(
      new RegExp(
        `conn rejected remote=127\\.0\\.0\\.1:${
          localPort(slow)
        } transport=tcp reason=preauth-timeout`,
      ),
    );

    // The same stall inside TLS (ALPN alknet/ssh): the clock started at the TCP accept.
    const tls = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: tlsPort,
      caCerts: [ck.cert],
      alpnProtocols: ["alknet/ssh"],
    });
    await tls.handshake();
    await tls.write(enc.encode("SSH-2.0-partial"));
    assert.ok(await closedByPeer(tls, 30_000), "TLS: closed at the pre-auth timeout");
    const tlsLocal = localPort(tls);
    tls.close();
    await server.proc.waitFor(
      new RegExp(
        `conn rejected remote=127\\.0\\.0\\.1:${tlsLocal} transport=tls reason=preauth-timeout`,
      ),
    );

    // A silent client on the TLS port never finishes the handshake: closed at its deadline.
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: tlsPort });
    assert.ok(await closedByPeer(silent, 30_000), "silent TLS client closed");
    silent.close();
    await server.proc.waitFor(
      new RegExp(
        `conn rejected remote=127\\.0\\.0\\.1:${
          localPort(silent)
        } transport=tls reason=tls-handshake-timeout`,
      ),
    );

    // The shipped fail2ban filter matches the node's own pre-auth lines, not the others.
    const lines = server.proc.lines.filter((l) => / conn rejected /.test(l));
    await Deno.writeTextFile(`${dir}/node.log`, lines.join("\n") + "\n");
    const out = await run("fail2ban-regex", [
      "--print-all-matched",
      "--raw",
      `${dir}/node.log`,
      FILTER,
    ]);
    assert.equal(out.code, 0, out.stderr + out.stdout);
    const matched = (out.stdout.split("|- Matched line(s):")[1]?.split("`-")[0] ?? "")
      .split("\n").map((l) => l.replace(/^\|\s+/, "").trim()).filter((l) => l !== "");
    assert.deepEqual(matched, lines.filter((l) => l.includes("reason=preauth-timeout")));
    assert.equal(matched.length, 3);
  } finally {
    await server.proc.stop();
  }

  // The per-address cap on unauthenticated connections: the 7th silent connection from one
  // address is closed at once and logged; the node keeps serving SSH once they are gone.
  await Deno.writeTextFile(`${dir}/cap.toml`, "[limits]\nmax_unauthenticated_per_ip = 6\n");
  const capped = await startServe(dir, ["--config", `${dir}/cap.toml`]);
  try {
    const held: Deno.Conn[] = [];
    for (let i = 0; i < 6; i++) {
      held.push(await Deno.connect({ hostname: "127.0.0.1", port: capped.port }));
    }
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: capped.port });
    assert.ok(await closedByPeer(extra, 10_000), "the 7th was closed");
    extra.close();
    await capped.proc.waitFor(
      new RegExp(
        `conn rejected remote=127\\.0\\.0\\.1:${
          localPort(extra)
        } transport=tcp reason=too-many-unauthenticated`,
      ),
    );
    for (const c of held) c.close();
    // The node notices the closes on its own time: retry (bounded) until a slot is free again.
    let scanned = "";
    for (let i = 0; i < 50 && !/ ssh-ed25519 /.test(scanned); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      scanned = (await run("ssh-keyscan", ["-T", "10", "-p", String(capped.port), "127.0.0.1"]))
        .stdout;
    }
    assert.match(scanned, / ssh-ed25519 /);
  } finally {
    await capped.proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
