/**
 * Throughput and latency of the native data path (`alknet/tcp`) over TLS
 * and QUIC against SSH `direct-tcpip` over TCP, two processes on loopback.
 *
 *     deno run -A bench/transport_throughput.ts [--mb 256] [--rounds 2000]
 *
 * The parent spawns a server process (endpoints + a sink and an echo
 * target) and measures from the client side:
 * - bulk: MB/s of one forward writing `--mb` MiB to the sink (which answers
 *   the byte count at the end);
 * - rtt: 1 KiB request/response round trips on one open forward (p50/p99);
 * - open+rtt: a new forward per request (TLS connection, QUIC stream, SSH
 *   channel) then one round trip (p50/p99).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { AuthorizedKeysAuthenticator, mintToken } from "@alknet/core/auth";
import { type ByteConn, connToDuplex, writeAll } from "@alknet/core/transport";
import { connectSsh, SshServer } from "@alknet/core/ssh";
import { generateEd25519Key, Logger, parsePrivateKey } from "@alknet/core";
import { listenEndpoint, selfSignedCertificate } from "@alknet/core/transport";
import {
  nativeTcpHandler,
  nativeTcpOverQuic,
  nativeTcpOverTls,
  openNativeTcp,
} from "@alknet/core/ssh";

const CHUNK = 64 * 1024;

function arg(name: string, dflt: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
}

function targets(): { sink: number; echo: number } {
  const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of sink) {
      c.setNoDelay(true);
      (async () => {
        const buf = new Uint8Array(256 * 1024);
        let n = 0;
        try {
          while (true) {
            const r = await c.read(buf);
            if (r === null) break;
            n += r;
          }
          const out = new Uint8Array(8);
          new DataView(out.buffer).setBigUint64(0, BigInt(n));
          await writeAll(c, out);
        } catch { /* reset */ }
        c.close();
      })();
    }
  })();
  (async () => {
    for await (const c of echo) {
      c.setNoDelay(true);
      c.readable.pipeTo(c.writable).catch(() => {});
    }
  })();
  return {
    sink: (sink.addr as Deno.NetAddr).port,
    echo: (echo.addr as Deno.NetAddr).port,
  };
}

async function serverMain(): Promise<void> {
  const cfg = JSON.parse(Deno.env.get("BENCH_CFG")!);
  const dir = await Deno.makeTempDir();
  const ck = await selfSignedCertificate(dir);
  const auth = AuthorizedKeysAuthenticator.fromText(cfg.clientPub, "bench");
  const ssh = new SshServer({
    hostKeys: [parsePrivateKey(cfg.hostKey, "host")],
    authenticator: auth,
    policy: { evaluate: () => "allow" },
    logger: new Logger("text", () => {}),
  });
  const sshHandler = (
    conn: ByteConn,
    info: { remoteAddress: string; remotePort: number; transport: string },
  ) =>
    ssh.handle(
      connToDuplex(conn, { remoteAddress: info.remoteAddress, remotePort: info.remotePort }),
      info,
    );
  const tcp = nativeTcpHandler({
    resolveToken: (t, info) => {
      const r = auth.authorizeToken(t, info.remoteAddress);
      return r.ok ? { identity: r.identity, restrictions: r.restrictions } : null;
    },
    policy: { evaluate: () => "allow" },
  });
  const tlsEp = await listenEndpoint("tls://127.0.0.1:0", {
    ...ck,
    handlers: { ssh: sshHandler, tcp },
  });
  const quicEp = await listenEndpoint("quic://127.0.0.1:0", {
    ...ck,
    handlers: { ssh: sshHandler, tcp },
  });
  const tcpEp = await listenEndpoint("tcp://127.0.0.1:0", { handlers: { ssh: sshHandler } });
  const t = targets();
  console.log(JSON.stringify({
    cert: ck.cert,
    tls: tlsEp.addr.port,
    quic: quicEp.addr.port,
    ssh: tcpEp.addr.port,
    sink: t.sink,
    echo: t.echo,
  }));
  await new Promise(() => {}); // until killed
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

async function readExact(conn: ByteConn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let have = 0;
  while (have < n) {
    const r = await conn.read(out.subarray(have));
    if (r === null) throw new Error(`EOF after ${have}/${n}`);
    have += r;
  }
  return out;
}

/** A Duplex (SSH channel) seen as a ByteConn for uniform measuring. */
function channelConn(ch: Duplex): ByteConn {
  const chunks: Buffer[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  ch.on("data", (c: Buffer) => {
    chunks.push(c);
    wake?.();
  });
  ch.on("end", () => {
    ended = true;
    wake?.();
  });
  ch.on("close", () => {
    ended = true;
    wake?.();
  });
  return {
    async read(p) {
      while (chunks.length === 0) {
        if (ended) return null;
        await new Promise<void>((r) => wake = r);
        wake = undefined;
      }
      const head = chunks[0];
      const n = Math.min(p.length, head.length);
      p.set(head.subarray(0, n));
      if (n === head.length) chunks.shift();
      else chunks[0] = head.subarray(n);
      return n;
    },
    async write(p) {
      if (!ch.write(Buffer.from(p))) await new Promise((r) => ch.once("drain", r));
      return p.length;
    },
    closeWrite() {
      ch.end();
      return Promise.resolve();
    },
    close() {
      ch.destroy();
    },
  };
}

async function bulk(open: () => Promise<ByteConn>, mb: number): Promise<number> {
  const conn = await open();
  const chunk = new Uint8Array(CHUNK);
  const total = mb * 1024 * 1024;
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += CHUNK) await writeAll(conn, chunk);
  await conn.closeWrite!();
  const n = new DataView((await readExact(conn, 8)).buffer).getBigUint64(0);
  const dt = (performance.now() - t0) / 1000;
  conn.close();
  if (Number(n) !== total) throw new Error(`sink got ${n} of ${total}`);
  return total / dt / 1e6;
}

async function rtt(open: () => Promise<ByteConn>, rounds: number): Promise<number[]> {
  const conn = await open();
  const req = new Uint8Array(1024);
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await writeAll(conn, req);
    await readExact(conn, req.length);
    out.push(performance.now() - t0);
  }
  conn.close();
  return out;
}

async function openRtt(open: () => Promise<ByteConn>, rounds: number): Promise<number[]> {
  const req = new Uint8Array(1024);
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const conn = await open();
    await writeAll(conn, req);
    await readExact(conn, req.length);
    out.push(performance.now() - t0);
    conn.close();
  }
  return out;
}

async function clientMain(): Promise<void> {
  const mb = arg("mb", 256);
  const rounds = arg("rounds", 2000);
  const host = generateEd25519Key("host");
  const client = generateEd25519Key("client");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--server"],
    env: { BENCH_CFG: JSON.stringify({ hostKey: host.privateText, clientPub: client.publicLine }) },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    while (!line.includes("\n")) {
      const r = await reader.read();
      if (r.done) throw new Error("server exited");
      line += r.value;
    }
    reader.releaseLock();
    const s = JSON.parse(line.split("\n")[0]);
    const identity = parsePrivateKey(client.privateText, "client");
    const token = mintToken(identity.seed!);
    const trust = { caCerts: [s.cert], serverName: "localhost" };
    const tlsOpen = nativeTcpOverTls("127.0.0.1", s.tls, trust);
    const quic = nativeTcpOverQuic("127.0.0.1", s.quic, trust);
    const session = await connectSsh({
      host: "127.0.0.1",
      port: s.ssh,
      identity,
      hostKey: { pinnedFingerprint: host.fingerprint },
    });
    const paths: [string, (port: number) => Promise<ByteConn>, number][] = [
      ["native alknet/tcp over TLS", (p) => openNativeTcp(tlsOpen, token, "127.0.0.1", p), mb],
      ["native alknet/tcp over QUIC", (p) => openNativeTcp(quic.open, token, "127.0.0.1", p), mb],
      [
        "SSH direct-tcpip over TCP",
        async (p) => channelConn(await session.openDirect("127.0.0.1", p)),
        Math.max(16, Math.floor(mb / 2)),
      ],
    ];
    const rows: string[] = [];
    for (const [name, open, size] of paths) {
      const mbps = await bulk(() => open(s.sink), size);
      const r = await rtt(() => open(s.echo), rounds);
      const o = await openRtt(() => open(s.echo), Math.min(rounds, 300));
      rows.push(
        `| ${name} | ${mbps.toFixed(0)} | ${pct(r, 0.5).toFixed(3)} | ${
          pct(r, 0.99).toFixed(3)
        } | ${pct(o, 0.5).toFixed(3)} | ${pct(o, 0.99).toFixed(3)} |`,
      );
    }
    session.close();
    quic.close();
    console.log(`bulk: ${mb} MiB (SSH: ${paths[2][2]} MiB) one stream; rtt: ${rounds} x 1 KiB\n`);
    console.log(
      "| path | bulk MB/s | rtt p50 ms | rtt p99 ms | open+rtt p50 ms | open+rtt p99 ms |",
    );
    console.log("|---|---|---|---|---|---|");
    for (const r of rows) console.log(r);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  }
}

if (Deno.args.includes("--server")) await serverMain();
else {
  await clientMain();
  Deno.exit(0);
}
