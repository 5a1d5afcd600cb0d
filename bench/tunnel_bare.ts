/**
 * The floor under the native paths of `bench/tunnel.ts`: the same steps in
 * the fewest lines of plain Deno, nothing of alknet (no token, no limits, no
 * policy, no logging). Two processes, started by `bench/tunnel.ts --bare`:
 *
 * - `node --port P --cert F --key F`: a QUIC listener (ALPN `bare`); each
 *   bidirectional stream carries `hostLen host portHi portLo`, the node
 *   dials the host, answers one status byte and relays.
 *   With `--tls`, a `Deno.listenTls` listener instead (TCP_NODELAY set on
 *   it as alknet does), one forward per TLS connection, same header.
 * - `client --quic P --ca F | --tls P --ca F | --direct`: a SOCKS5 proxy
 *   (no authentication) that opens a stream on one QUIC connection per
 *   SOCKS connection; or takes one of two TLS connections opened ahead
 *   (refilled once the taken one has its status, as alknet's standby
 *   pool); or, with `--direct`, dials the target itself (the floor of a
 *   SOCKS proxy written in Deno, no tunnel at all).
 *
 * Both print `listening PORT` on stderr. Relays read the next chunk while
 * the previous write is in flight, 64 KiB buffers.
 *
 * @module
 */

import { setListenerNoDelay } from "../core/transport/socket_ffi.ts";

interface Conn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

function quicConn(s: Deno.QuicBidirectionalStream): Conn {
  const reader = s.readable.getReader({ mode: "byob" });
  const writer = s.writable.getWriter();
  let scratch = new Uint8Array(64 * 1024);
  let rest: Uint8Array | undefined;
  let finished = false;
  return {
    async read(p) {
      if (!rest || rest.length === 0) {
        const r = await reader.read(new Uint8Array(scratch.buffer, 0, scratch.length));
        if (r.done || !r.value) return null;
        scratch = new Uint8Array(r.value.buffer);
        rest = r.value;
      }
      const n = Math.min(p.length, rest.length);
      p.set(rest.subarray(0, n));
      rest = rest.subarray(n);
      return n;
    },
    async write(p) {
      await writer.write(p);
      return p.length;
    },
    closeWrite() {
      finished = true;
      return writer.close().catch(() => {});
    },
    close() {
      reader.cancel().catch(() => {});
      // A reset after the FIN would drop what the peer has not read yet.
      if (!finished) writer.abort().catch(() => {});
    },
  };
}

function tcpConn(c: Deno.TcpConn | Deno.TlsConn): Conn {
  return {
    read: (p) => c.read(p),
    write: (p) => c.write(p),
    closeWrite: () => c.closeWrite().catch(() => {}),
    close() {
      try {
        c.close();
      } catch { /* closed */ }
    },
  };
}

async function writeAll(c: Conn, p: Uint8Array): Promise<void> {
  for (let o = 0; o < p.length;) o += await c.write(o === 0 ? p : p.subarray(o));
}

async function pump(from: Conn, to: Conn): Promise<void> {
  const bufs = [new Uint8Array(64 * 1024), new Uint8Array(64 * 1024)];
  let i = 0;
  let writing: Promise<void> | undefined;
  while (true) {
    const n = await from.read(bufs[i]);
    if (writing) await writing;
    if (n === null) break;
    writing = writeAll(to, bufs[i].subarray(0, n));
    i ^= 1;
  }
  await to.closeWrite();
}

function relay(a: Conn, b: Conn): void {
  Promise.all([pump(a, b), pump(b, a)]).catch(() => {}).finally(() => {
    a.close();
    b.close();
  });
}

/** Reads until `want(buf)` says how long the message is; the bytes read. */
async function readMessage(
  c: Conn,
  want: (b: Uint8Array) => number,
  max = 600,
): Promise<Uint8Array> {
  const buf = new Uint8Array(max);
  let have = 0;
  while (have < want(buf.subarray(0, have))) {
    const n = await c.read(buf.subarray(have));
    if (n === null) throw new Error("closed");
    have += n;
  }
  return buf.subarray(0, have);
}

const arg = (name: string) => {
  const i = Deno.args.indexOf(name);
  return i < 0 ? undefined : Deno.args[i + 1];
};

async function serveForward(c: Conn): Promise<void> {
  const m = await readMessage(c, (b) => b.length < 1 ? 1 : 1 + b[0] + 2);
  const host = new TextDecoder().decode(m.subarray(1, 1 + m[0]));
  const port = (m[1 + m[0]] << 8) | m[2 + m[0]];
  let t: Deno.TcpConn;
  try {
    t = await Deno.connect({ hostname: host, port });
  } catch {
    await writeAll(c, new Uint8Array([2]));
    return c.close();
  }
  t.setNoDelay(true);
  await writeAll(c, new Uint8Array([0]));
  relay(c, tcpConn(t));
}

async function node(): Promise<void> {
  if (Deno.args.includes("--tls")) {
    const port = Number(arg("--port"));
    const l = Deno.listenTls({
      hostname: "127.0.0.1",
      port,
      cert: Deno.readTextFileSync(arg("--cert")!),
      key: Deno.readTextFileSync(arg("--key")!),
    });
    setListenerNoDelay(port);
    console.error(`listening ${port}`);
    for await (const t of l) serveForward(tcpConn(t)).catch(() => t.close());
    return;
  }
  const listener = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: Number(arg("--port")) })
    .listen({
      cert: Deno.readTextFileSync(arg("--cert")!),
      key: Deno.readTextFileSync(arg("--key")!),
      alpnProtocols: ["bare"],
    });
  console.error(`listening ${arg("--port")}`);
  for await (const incoming of listener) {
    (async () => {
      const conn = await incoming.accept<false>();
      for await (const s of conn.incomingBidirectionalStreams) {
        serveForward(quicConn(s)).catch(() => {});
      }
    })().catch(() => {});
  }
}

async function client(): Promise<void> {
  const quicPort = arg("--quic");
  const quic = quicPort
    ? await Deno.connectQuic({
      hostname: "127.0.0.1",
      port: Number(quicPort),
      serverName: "localhost",
      alpnProtocols: ["bare"],
      caCerts: [Deno.readTextFileSync(arg("--ca")!)],
    })
    : undefined;
  const tlsPort = arg("--tls");
  const pool: Promise<Deno.TlsConn>[] = [];
  const refill = () => {
    while (pool.length < 2) {
      const c = Deno.connectTls({
        hostname: "127.0.0.1",
        port: Number(tlsPort),
        caCerts: [Deno.readTextFileSync(arg("--ca")!)],
      });
      c.then((t) => t.handshake(), () => {});
      pool.push(c);
    }
  };
  if (tlsPort) refill();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.error(`listening ${(listener.addr as Deno.NetAddr).port}`);
  for await (const raw of listener) {
    (async () => {
      raw.setNoDelay(true);
      const c = tcpConn(raw);
      await readMessage(c, (b) => b.length < 2 ? 2 : 2 + b[1]);
      await writeAll(c, new Uint8Array([5, 0]));
      const r = await readMessage(c, (b) => b.length < 5 ? 5 : 4 + (b[3] === 1 ? 4 : 1 + b[4]) + 2);
      const host = r[3] === 1 ? r.subarray(4, 8).join(".") : new TextDecoder().decode(
        r.subarray(5, 5 + r[4]),
      );
      const port = (r[r.length - 2] << 8) | r[r.length - 1];
      let up: Conn;
      if (quic || tlsPort) {
        up = quic ? quicConn(await quic.createBidirectionalStream()) : tcpConn(await pool.shift()!);
        const h = new TextEncoder().encode(host);
        await writeAll(up, new Uint8Array([h.length, ...h, port >> 8, port & 255]));
        const status = await readMessage(up, () => 1, 1);
        if (tlsPort) refill();
        if (status[0] !== 0) {
          await writeAll(c, new Uint8Array([5, 4, 0, 1, 0, 0, 0, 0, 0, 0]));
          return c.close();
        }
      } else {
        const t = await Deno.connect({ hostname: host, port });
        t.setNoDelay(true);
        up = tcpConn(t);
      }
      await writeAll(c, new Uint8Array([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
      relay(c, up);
    })().catch(() => raw.close());
  }
}

if (Deno.args[0] === "node") await node();
else await client();
