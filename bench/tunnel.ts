/**
 * Tunnel benchmark: bulk download, 1 kB round trips on an open tunnel and
 * new connections (SOCKS handshake + 1 kB round trip) through a SOCKS5
 * proxy, for every alknet path beside OpenSSH, all in one run:
 *
 * - OpenSSH `ssh -N -D` to OpenSSH `sshd` (the reference);
 * - `alknet connect` to `alknet serve`, SSH over TCP;
 * - the native `alknet/tcp` data path over TLS (`--data-path direct`);
 * - the native data path over QUIC;
 * - two floors in plain Deno (`bench/tunnel_bare.ts`, nothing of alknet):
 *   a SOCKS5 proxy that dials the target itself (`direct`: no tunnel), and
 *   the same proxy opening one stream per connection on a QUIC connection to
 *   a bare node that dials (`bare-quic`), or taking one of two TLS
 *   connections opened ahead (`bare-tls`).
 *
 * For each it reports MB/s, round-trip p50/p99, new-connection p50/p99 and
 * the CPU seconds per GB moved of the server and of the client process
 * (user + system from `/proc/PID/stat`, the process and its descendants:
 * sshd forks per session), then the ratio of every alknet path to OpenSSH
 * measured in the same run, as min–max and median over the runs. Everything runs on
 * 127.0.0.1 as real processes; the paths are measured in turn, in a
 * rotating order.
 *
 * Usage: deno run -A bench/tunnel.ts [--mb 256] [--requests 1000] [--connections 100]
 *          [--runs 3] [--only tcp,tls,quic,direct,bare-tls,bare-quic] [--rtt-ms 0]
 *
 * `--rtt-ms N` puts a relay adding N/2 ms each way (and a round trip for
 * each TCP connection) between every client and its server, so connection
 * setup shows in round trips as it would across a network.
 *
 * @module
 */

import { echoServer, writeSshdConfig } from "../tests/helpers.ts";
import { Children, treeCpuSeconds, waitLine, waitPort } from "./procs.ts";
import { type DelayRelay, tcpDelayRelay, udpDelayRelay } from "./delay_proxy.ts";
import { parseArgs } from "node:util";
import { generateEd25519Key } from "@alknet/core";
import { socks5ClientConnect } from "@alknet/core/transport";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mb: { type: "string", default: "256" },
    requests: { type: "string", default: "1000" },
    connections: { type: "string", default: "100" },
    runs: { type: "string", default: "3" },
    only: { type: "string", default: "tcp,tls,quic,direct,bare-tls,bare-quic" },
    "rtt-ms": { type: "string", default: "0" },
  },
});
const MB = Number(values.mb);
const REQUESTS = Number(values.requests);
const CONNECTIONS = Number(values.connections);
const RUNS = Number(values.runs);
const ONLY = new Set(values.only.split(","));
/** Round trip added between every client and its server (delay relays), in ms. */
const RTT_MS = Number(values["rtt-ms"]);
const relays: DelayRelay[] = [];
/** The port a client dials for `port`: `port` itself, or a delay relay in front of it. */
function via(port: number, udp = false): number {
  if (RTT_MS <= 0) return port;
  const t = tcpDelayRelay(port, RTT_MS / 2);
  relays.push(t);
  // QUIC: the UDP relay takes the same port number as the TCP one (pinning reads the
  // certificate over TLS on the QUIC port).
  if (udp) relays.push(udpDelayRelay(port, RTT_MS / 2, t.port));
  return t.port;
}

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

interface Stats {
  p50: number;
  p99: number;
}

interface Result {
  mbps: number;
  rttMs: Stats;
  connMs: Stats;
  /** CPU seconds per GB downloaded: the server side, the client side. */
  serverCpu: number;
  clientCpu: number;
}

interface Path {
  key: string;
  name: string;
  proxy: number;
  server: number;
  client: number;
}

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: s[Math.floor(s.length * 0.5)],
    p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))],
  };
}

async function roundTrip(c: Deno.Conn, req: Uint8Array, buf: Uint8Array): Promise<void> {
  await c.write(req);
  let have = 0;
  while (have < req.length) {
    const n = await c.read(buf);
    if (n === null) throw new Error("echo closed");
    have += n;
  }
}

async function measure(path: Path): Promise<Result> {
  // Warm up.
  const w = await socks(path.proxy, echo.port);
  await roundTrip(w, new Uint8Array(1024), new Uint8Array(4096));
  w.close();
  // Bulk download.
  const conn = await socks(path.proxy, portOf(source));
  const buf = new Uint8Array(256 * 1024);
  let got = 0;
  const s0 = treeCpuSeconds(path.server);
  const c0 = treeCpuSeconds(path.client);
  const t0 = performance.now();
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    got += n;
  }
  const secs = (performance.now() - t0) / 1000;
  const s1 = treeCpuSeconds(path.server);
  const c1 = treeCpuSeconds(path.client);
  conn.close();
  if (got !== MB * 1024 * 1024) throw new Error(`${path.name}: short download: ${got} bytes`);
  // 1 kB request/response on an open tunnel.
  const req = new Uint8Array(1024).fill(120);
  const e = await socks(path.proxy, echo.port);
  const rtts: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    await roundTrip(e, req, buf);
    rtts.push(performance.now() - t);
  }
  e.close();
  // 1 kB request on a new tunnel connection each time (SOCKS handshake + channel/stream open).
  const conns: number[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const t = performance.now();
    const c = await socks(path.proxy, echo.port);
    await roundTrip(c, req, buf);
    conns.push(performance.now() - t);
    c.close();
  }
  const gb = got / 1e9;
  return {
    mbps: got / 1e6 / secs,
    rttMs: stats(rtts),
    connMs: stats(conns),
    serverCpu: (s1 - s0) / gb,
    clientCpu: (c1 - c0) / gb,
  };
}

const f = (x: number, d: number, w: number) => x.toFixed(d).padStart(w);

function row(name: string, r: Result): string {
  return `${name.padEnd(26)}${f(r.mbps, 0, 6)}${f(r.rttMs.p50, 3, 9)}${f(r.rttMs.p99, 3, 8)}${
    f(r.connMs.p50, 2, 9)
  }${f(r.connMs.p99, 2, 8)}${f(r.serverCpu, 2, 10)}${f(r.clientCpu, 2, 10)}`;
}

const HEADER = `${"path".padEnd(26)}${"MB/s".padStart(6)}${"rtt p50".padStart(9)}${
  "p99".padStart(8)
}${"new p50".padStart(9)}${"p99".padStart(8)}${"srv s/GB".padStart(10)}${
  "cli s/GB".padStart(10)
}   (ms)`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function range(xs: number[], d = 2): string {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo.toFixed(d) === hi.toFixed(d) ? lo.toFixed(d) : `${lo.toFixed(d)}–${hi.toFixed(d)}`;
}

try {
  const host = generateEd25519Key("bench-host");
  const id = generateEd25519Key("bench-id");
  await Deno.writeTextFile(`${dir}/host`, host.privateText, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/id`, id.privateText, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/id.pub`, id.publicLine + "\n");
  await Deno.writeTextFile(`${dir}/authorized_keys`, id.publicLine + "\n");

  // alknet serve + one alknet connect per path. TLS and QUIC share a port
  // number (a pinned QUIC client reads the certificate over TLS there).
  const tq = freePort();
  const serve = children.alknet([
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--listen",
    `tls://127.0.0.1:${tq}`,
    "--listen",
    `quic://127.0.0.1:${tq}`,
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
    /fingerprint=(SHA256:[0-9a-f]+)[\s\S]*addr=127\.0\.0\.1:(\d+) transport=tcp[\s\S]*addr=127\.0\.0\.1:(\d+) transport=tls[\s\S]*addr=127\.0\.0\.1:(\d+) transport=quic/,
  );
  const [tlsFp, sport, tport, qport] = [
    started[1],
    Number(started[2]),
    Number(started[3]),
    Number(started[4]),
  ];
  const client = async (url: string, extra: string[]) => {
    const c = children.alknet([
      "connect",
      url,
      "--identity",
      `${dir}/id`,
      "--host-key-fingerprint",
      host.fingerprint,
      ...extra,
      "--socks5",
      "127.0.0.1:0",
    ]);
    const port = Number((await waitLine(c, /socks5 listening addr=127\.0\.0\.1:(\d+)/))[1]);
    return { pid: c.pid, port };
  };
  const direct = ["--tls-fingerprint", tlsFp, "--data-path", "direct"];
  const paths: Path[] = [];
  if (ONLY.has("tcp")) {
    const c = await client(`127.0.0.1:${via(sport)}`, []);
    paths.push({
      key: "tcp",
      name: "alknet, SSH over TCP",
      proxy: c.port,
      server: serve.pid,
      client: c.pid,
    });
  }
  if (ONLY.has("tls")) {
    const c = await client(`tls://127.0.0.1:${via(tport)}`, direct);
    paths.push({
      key: "tls",
      name: "alknet, native over TLS",
      proxy: c.port,
      server: serve.pid,
      client: c.pid,
    });
  }
  if (ONLY.has("quic")) {
    const c = await client(`quic://127.0.0.1:${via(qport, true)}`, direct);
    paths.push({
      key: "quic",
      name: "alknet, native over QUIC",
      proxy: c.port,
      server: serve.pid,
      client: c.pid,
    });
  }

  // The floors in plain Deno (bench/tunnel_bare.ts): the node reuses serve's certificate.
  const bare = (args: string[]) =>
    children.spawn(Deno.execPath(), [
      "run",
      "-A",
      `${new URL("tunnel_bare.ts", import.meta.url).pathname}`,
      ...args,
    ]);
  if (ONLY.has("direct")) {
    const c = bare(["client", "--direct"]);
    const port = Number((await waitLine(c, /listening (\d+)/))[1]);
    paths.push({
      key: "direct",
      name: "Deno SOCKS, no tunnel",
      proxy: port,
      server: c.pid,
      client: c.pid,
    });
  }
  if (ONLY.has("bare-tls")) {
    const tp = freePort();
    const crt = `${dir}/data/tls-selfsigned.crt`;
    const n = bare([
      "node",
      "--tls",
      "--port",
      String(tp),
      "--cert",
      crt,
      "--key",
      `${dir}/data/tls-selfsigned.key`,
    ]);
    await waitLine(n, /listening/);
    const c = bare(["client", "--tls", String(via(tp)), "--ca", crt]);
    const port = Number((await waitLine(c, /listening (\d+)/))[1]);
    paths.push({
      key: "bare-tls",
      name: "Deno bare TLS, 2 ready",
      proxy: port,
      server: n.pid,
      client: c.pid,
    });
  }
  if (ONLY.has("bare-quic")) {
    const qp = freePort();
    const crt = `${dir}/data/tls-selfsigned.crt`;
    const n = bare([
      "node",
      "--port",
      String(qp),
      "--cert",
      crt,
      "--key",
      `${dir}/data/tls-selfsigned.key`,
    ]);
    await waitLine(n, /listening/);
    const c = bare(["client", "--quic", String(via(qp, true)), "--ca", crt]);
    const port = Number((await waitLine(c, /listening (\d+)/))[1]);
    paths.push({
      key: "bare-quic",
      name: "Deno bare QUIC stream",
      proxy: port,
      server: n.pid,
      client: c.pid,
    });
  }

  // OpenSSH sshd + ssh -D (always: the reference).
  const user = new TextDecoder().decode(
    (await new Deno.Command("id", { args: ["-un"] }).output()).stdout,
  ).trim();
  const dport = freePort();
  const oport = freePort();
  const sshdConfig = await writeSshdConfig(dir, {
    port: dport,
    hostKey: `${dir}/host`,
    authorizedKeys: `${dir}/authorized_keys`,
  });
  const sshd = children.spawn("/usr/sbin/sshd", ["-D", "-e", "-f", sshdConfig]);
  await waitPort(dport);
  const ssh = children.spawn("ssh", [
    "-F",
    "/dev/null",
    "-N",
    "-D",
    `127.0.0.1:${oport}`,
    "-i",
    `${dir}/id`,
    "-p",
    String(via(dport)),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    `${user}@127.0.0.1`,
  ]);
  await waitPort(oport);
  const openssh: Path = {
    key: "ssh",
    name: "OpenSSH ssh -D -> sshd",
    proxy: oport,
    server: sshd.pid,
    client: ssh.pid,
  };
  const all = [openssh, ...paths];

  console.log(
    `tunnel benchmark: ${MB} MB download, ${REQUESTS} x 1 kB round trips, ${CONNECTIONS} x new connection + 1 kB, ${RUNS} runs${
      RTT_MS > 0 ? `, ${RTT_MS} ms added round trip` : ""
    }`,
  );
  const results = new Map<string, Result[]>(all.map((p) => [p.key, []]));
  for (let run = 0; run < RUNS; run++) {
    console.log(`\nrun ${run + 1}/${RUNS} (load ${Deno.loadavg()[0].toFixed(1)})`);
    console.log(HEADER);
    // Rotate the order so no path always goes first (or last).
    const order = all.map((_, i) => all[(i + run) % all.length]);
    for (const p of order) {
      const r = await measure(p);
      results.get(p.key)!.push(r);
      console.log(row(p.name, r));
    }
  }
  const ref = results.get("ssh")!;
  const medians: string[] = [];
  console.log(
    `\nratio to OpenSSH in the same run (min–max over ${RUNS} runs); throughput: higher is better, the rest: lower is better`,
  );
  console.log(
    `${"path".padEnd(26)}${"throughput".padStart(12)}${"rtt p50".padStart(12)}${
      "new p50".padStart(12)
    }${"srv CPU/GB".padStart(12)}${"cli CPU/GB".padStart(12)}`,
  );
  for (const p of paths) {
    const rs = results.get(p.key)!;
    const ratio = (pick: (r: Result) => number) => range(rs.map((r, i) => pick(r) / pick(ref[i])));
    medians.push(
      `${p.name.padEnd(26)}${
        [(r: Result) =>
          r.mbps, (r: Result) =>
          r.rttMs.p50, (r: Result) =>
          r.connMs.p50, (r: Result) =>
          r.serverCpu, (r: Result) =>
          r.clientCpu].map((pick) =>
            median(rs.map((r, i) => pick(r) / pick(ref[i]))).toFixed(2).padStart(12)
          ).join("")
      }`,
    );
    console.log(
      `${p.name.padEnd(26)}${ratio((r) => r.mbps).padStart(12)}${
        ratio((r) => r.rttMs.p50).padStart(12)
      }${ratio((r) => r.connMs.p50).padStart(12)}${ratio((r) => r.serverCpu).padStart(12)}${
        ratio((r) => r.clientCpu).padStart(12)
      }`,
    );
  }
  console.log(`\nthe same ratios, median over the ${RUNS} runs`);
  for (const line of medians) console.log(line);
  console.log(`\nabsolute values (min–max over ${RUNS} runs)`);
  console.log(
    `${"path".padEnd(26)}${"MB/s".padStart(12)}${"rtt p50 ms".padStart(14)}${
      "new p50 ms".padStart(14)
    }${"srv s/GB".padStart(12)}${"cli s/GB".padStart(12)}`,
  );
  for (const p of all) {
    const rs = results.get(p.key)!;
    console.log(
      `${p.name.padEnd(26)}${range(rs.map((r) => r.mbps), 0).padStart(12)}${
        range(rs.map((r) => r.rttMs.p50), 3).padStart(14)
      }${range(rs.map((r) => r.connMs.p50)).padStart(14)}${
        range(rs.map((r) => r.serverCpu)).padStart(12)
      }${range(rs.map((r) => r.clientCpu)).padStart(12)}`,
    );
  }
} finally {
  await children.stopAll();
  for (const r of relays) r.close();
  source.close();
  await echo.close();
  await Deno.remove(dir, { recursive: true });
}
