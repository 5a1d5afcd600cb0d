/**
 * The floor the call protocol is measured against in `bench/call_rpc.ts`:
 * a bare echo that does only what any JSON RPC over these carriers must do,
 * and nothing of the call protocol (no dispatcher, schemas, access checks,
 * abort or stream bookkeeping).
 *
 * - Framed (TCP and TLS): 4-byte big-endian length + UTF-8 JSON
 *   `{"id":N,"input":...}`; the server parses each frame and answers
 *   `{"id":N,"output":<the input>}`; both ends coalesce the frames queued
 *   while a write is in flight into one write, and read 64 KiB at a time.
 * - WebSocket (server `Deno.upgradeWebSocket`, client `npm:ws`): one JSON
 *   message per request and per answer.
 *
 * @module
 */

// @ts-types="@types/ws"
import WebSocket from "ws";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A JSON call: resolves to the `output` of the answer with the same id. */
export type BareCall = (input: unknown) => Promise<unknown>;

/** Frames JSON texts onto `conn`, coalescing what is queued while a write is in flight. */
class FrameWriter {
  #queue: string[] = [];
  #chars = 0;
  #writing = false;
  constructor(private conn: Deno.Conn) {}

  send(text: string): void {
    this.#queue.push(text);
    this.#chars += text.length;
    if (!this.#writing) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const items = this.#queue;
        const buf = new Uint8Array(this.#chars * 3 + items.length * 4);
        this.#queue = [];
        this.#chars = 0;
        let o = 0;
        for (const t of items) {
          const n = encoder.encodeInto(t, buf.subarray(o + 4)).written;
          new DataView(buf.buffer).setUint32(o, n);
          o += 4 + n;
        }
        let off = 0;
        while (off < o) off += await this.conn.write(buf.subarray(off, o));
      }
    } catch { /* the reader sees the connection end */ }
    this.#writing = false;
  }
}

/** Reads frames from `conn` and hands each JSON value to `onMessage` until the end. */
async function readFrames(conn: Deno.Conn, onMessage: (v: unknown) => void): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  let pending = new Uint8Array(0);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      let data = buf.subarray(0, n);
      if (pending.length > 0) {
        const joined = new Uint8Array(pending.length + n);
        joined.set(pending);
        joined.set(data, pending.length);
        data = joined;
      }
      let o = 0;
      while (data.length - o >= 4) {
        const len = new DataView(data.buffer, data.byteOffset + o).getUint32(0);
        if (data.length - o - 4 < len) break;
        onMessage(JSON.parse(decoder.decode(data.subarray(o + 4, o + 4 + len))));
        o += 4 + len;
      }
      pending = data.slice(o);
    }
  } catch { /* closed */ }
}

/** A running bare echo server. */
export interface BareServer {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Stops it and closes its connections. */
  close(): void;
}

/** The framed echo on plain TCP (NODELAY) or, with `tls`, on `Deno.listenTls`. */
export function serveBareFramed(tls?: { cert: string; key: string }): BareServer {
  const listener: Deno.Listener = tls
    ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...tls })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
      conns.add(conn);
      const out = new FrameWriter(conn);
      readFrames(conn, (m) => {
        const { id, input } = m as { id: number; input: unknown };
        out.send(JSON.stringify({ id, output: input }));
      }).finally(() => {
        conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed */ }
      });
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

/** The WebSocket echo (`Deno.serve` + `Deno.upgradeWebSocket`). */
export function serveBareWebSocket(): BareServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (ev) => {
      const { id, input } = JSON.parse(ev.data as string) as { id: number; input: unknown };
      socket.send(JSON.stringify({ id, output: input }));
    };
    return response;
  });
  return { port: server.addr.port, close: () => void server.shutdown() };
}

/** A client of {@link serveBareFramed}: `call`, and `close`. */
export async function connectBareFramed(
  port: number,
  tls?: { caCerts: string[] },
): Promise<{ call: BareCall; close(): void }> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  tcp.setNoDelay(true);
  const conn: Deno.Conn = tls
    ? await Deno.startTls(tcp, { hostname: "localhost", caCerts: tls.caCerts })
    : tcp;
  const waiting = new Map<number, (v: unknown) => void>();
  let next = 0;
  const out = new FrameWriter(conn);
  readFrames(conn, (m) => {
    const { id, output } = m as { id: number; output: unknown };
    const w = waiting.get(id);
    waiting.delete(id);
    w?.(output);
  });
  return {
    call(input) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        out.send(JSON.stringify({ id, input }));
      });
    },
    close: () => conn.close(),
  };
}

/** A client of {@link serveBareWebSocket} over `npm:ws`. */
export async function connectBareWebSocket(
  port: number,
): Promise<{ call: BareCall; close(): void }> {
  const sock = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    sock.once("open", resolve);
    sock.once("error", reject);
  });
  const waiting = new Map<number, (v: unknown) => void>();
  let next = 0;
  sock.on("message", (data: WebSocket.RawData) => {
    const { id, output } = JSON.parse(String(data)) as { id: number; output: unknown };
    const w = waiting.get(id);
    waiting.delete(id);
    w?.(output);
  });
  return {
    call(input) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        sock.send(JSON.stringify({ id, input }));
      });
    },
    close: () => sock.close(),
  };
}
