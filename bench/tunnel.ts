/**
 * Tunnel benchmark: bulk download and 1 kB request latency through
 * `alknet connect`'s SOCKS5 proxy (to `alknet serve`: SSH over TCP, and the
 * native `alknet/tcp` data path over TLS) and, in the same run, through
 * OpenSSH `ssh -N -D` (to OpenSSH `sshd`). Everything runs on 127.0.0.1 as
 * real processes.
 *
 * Usage: deno run -A bench/tunnel.ts [--mb 256] [--requests 2000] [--connections 200]
 *
 * @module
 */

import { echoServer, writeSshdConfig } from "../tests/helpers.ts";
import { Children, waitLine } from "./procs.ts";
import { parseArgs } from "node:util";
import { generateEd25519Key, socks5ClientConnect } from "@alknet/core";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mb: { type: "string", default: "256" },
    requests: { type: "string", default: "2000" },
    connections: { type: "string", default: "200" },
  },
});
const MB = Number(values.mb);
const REQUESTS = Number(values.requests);
const CONNECTIONS = Number(values.connections);

function listen(): Deno.TcpListener {
  return Deno.listen({ hostname: "127.0.0.1", port: 0 });
}
function portOf(l: Deno.Listener): number {
  return (l.addr as Deno.NetAddr).port;
}

// Source: sends MB megabytes on each connection, then closes.
const source = listen();
const chunk = new Uint8Array(256 * 1024).map((_, i) => i & 255);
(async () => {
  for await (const conn of source) {
    (async () => {
      conn.setNoDelay(true);
      try {
        let left = MB * 1024 * 1024;
        while (left > 0) {
          const n = await conn.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
          left -= n;
        }
      } catch { /* reader went away */ }
      conn.close();
    })();
  }
})().catch(() => {});

// Echo: answers every 1 kB request with 1 kB.
const echo = echoServer();

const dir = await Deno.makeTempDir({ prefix: "alknet-bench-" });
const children = new Children();

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`port ${port} never opened`);
}

function freePort(): number {
  const l = listen();
  const p = portOf(l);
  l.close();
  return p;
}

async function socks(proxy: number, port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy });
  conn.setNoDelay(true);
  await socks5ClientConnect(conn, "127.0.0.1", port);
  return conn;
}

interface Result {
  mbps: number;
  rttMs: { mean: number; p50: number; p99: number };
  connMs: { mean: number; p50: number; p99: number };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return {
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    p50: s[Math.floor(s.length * 0.5)],
    p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))],
  };
}

async function measure(proxy: number): Promise<Result> {
  // Warm up.
  (await socks(proxy, echo.port)).close();
  // Bulk download.
  const conn = await socks(proxy, portOf(source));
  const buf = new Uint8Array(256 * 1024);
  let got = 0;
  const t0 = performance.now();
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    got += n;
  }
  const secs = (performance.now() - t0) / 1000;
  conn.close();
  if (got !== MB * 1024 * 1024) throw new Error(`short download: ${got} bytes`);
  // 1 kB request/response on an open tunnel.
  const req = new Uint8Array(1024).fill(120);
  const e = await socks(proxy, echo.port);
  const rtts: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    await e.write(req);
    let have = 0;
    while (have < req.length) {
      const n = await e.read(buf);
      if (n === null) throw new Error("echo closed");
      have += n;
    }
    rtts.push(performance.now() - t);
  }
  e.close();
  // 1 kB request on a new tunnel connection each time (SOCKS handshake + channel open).
  const conns: number[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const t = performance.now();
    const c = await socks(proxy, echo.port);
    await c.write(req);
    let have = 0;
    while (have < req.length) {
      const n = await c.read(buf);
      if (n === null) throw new Error("echo closed");
      have += n;
    }
    conns.push(performance.now() - t);
    c.close();
  }
  return { mbps: got / 1e6 / secs, rttMs: stats(rtts), connMs: stats(conns) };
}

try {
  const host = generateEd25519Key("bench-host");
  const id = generateEd25519Key("bench-id");
  await Deno.writeTextFile(`${dir}/host`, host.privateText, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/id`, id.privateText, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/id.pub`, id.publicLine + "\n");
  await Deno.writeTextFile(`${dir}/authorized_keys`, id.publicLine + "\n");

  // alknet serve + alknet connect.
  const serve = children.alknet([
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--listen",
    "tls://127.0.0.1:0",
    "--tls-self-signed",
    "--data-dir",
    `${dir}/data`,
    "--host-key",
    `${dir}/host`,
    "--authorized-keys",
    `${dir}/authorized_keys`,
  ]);
  const started = await waitLine(
    serve,
    /fingerprint=(SHA256:[0-9a-f]+)[\s\S]*addr=127\.0\.0\.1:(\d+) transport=tcp[\s\S]*addr=127\.0\.0\.1:(\d+) transport=tls/,
  );
  const [tlsFp, sport, tport] = [started[1], Number(started[2]), Number(started[3])];
  const connect = children.alknet([
    "connect",
    `127.0.0.1:${sport}`,
    "--identity",
    `${dir}/id`,
    "--host-key-fingerprint",
    host.fingerprint,
    "--socks5",
    "127.0.0.1:0",
  ]);
  const aport = Number((await waitLine(connect, /socks5 listening addr=127\.0\.0\.1:(\d+)/))[1]);
  const connectTls = children.alknet([
    "connect",
    `tls://127.0.0.1:${tport}`,
    "--identity",
    `${dir}/id`,
    "--host-key-fingerprint",
    host.fingerprint,
    "--tls-fingerprint",
    tlsFp,
    "--data-path",
    "direct",
    "--socks5",
    "127.0.0.1:0",
  ]);
  const nport = Number((await waitLine(connectTls, /socks5 listening addr=127\.0\.0\.1:(\d+)/))[1]);

  // OpenSSH sshd + ssh -D.
  const user = new TextDecoder().decode(
    (await new Deno.Command("id", { args: ["-un"] }).output()).stdout,
  )
    .trim();
  const dport = freePort();
  const oport = freePort();
  const sshdConfig = await writeSshdConfig(dir, {
    port: dport,
    hostKey: `${dir}/host`,
    authorizedKeys: `${dir}/authorized_keys`,
  });
  children.spawn("/usr/sbin/sshd", ["-D", "-e", "-f", sshdConfig]);
  await waitPort(dport);
  children.spawn("ssh", [
    "-F",
    "/dev/null",
    "-N",
    "-D",
    `127.0.0.1:${oport}`,
    "-i",
    `${dir}/id`,
    "-p",
    String(dport),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    `${user}@127.0.0.1`,
  ]);
  await waitPort(oport);

  console.log(
    `tunnel benchmark: ${MB} MB download, ${REQUESTS} x 1 kB round trips, ${CONNECTIONS} x new connection + 1 kB`,
  );
  const a = await measure(aport);
  const n = await measure(nport);
  const o = await measure(oport);
  const row = (name: string, r: Result) =>
    `${name.padEnd(26)} ${r.mbps.toFixed(0).padStart(6)} MB/s   rtt p50 ${
      r.rttMs.p50.toFixed(3)
    } ms  p99 ${r.rttMs.p99.toFixed(3)} ms   new-conn p50 ${r.connMs.p50.toFixed(2)} ms  p99 ${
      r.connMs.p99.toFixed(2)
    } ms`;
  console.log(row("alknet, SSH over TCP", a));
  console.log(row("alknet, native over TLS", n));
  console.log(row("OpenSSH ssh -D -> sshd", o));
  for (const [name, r] of [["SSH over TCP", a], ["native over TLS", n]] as const) {
    console.log(
      `alknet ${name} / OpenSSH: throughput ${(r.mbps / o.mbps).toFixed(2)}x, rtt p50 ${
        (r.rttMs.p50 / o.rttMs.p50).toFixed(2)
      }x, new-conn p50 ${(r.connMs.p50 / o.connMs.p50).toFixed(2)}x`,
    );
  }
} finally {
  await children.stopAll();
  source.close();
  await echo.close();
  await Deno.remove(dir, { recursive: true });
}
