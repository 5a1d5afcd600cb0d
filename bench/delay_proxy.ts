/**
 * Loopback relays that add a fixed one-way delay, so that a benchmark on one
 * machine can show what a round trip costs (connection setup in round
 * trips rather than in CPU): a TCP relay and a UDP relay (for QUIC), both
 * on 127.0.0.1, forwarding to a port on 127.0.0.1. Bytes and datagrams keep
 * their order; nothing is throttled.
 *
 * @module
 */

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

/** A running relay. */
export interface DelayRelay {
  /** The port it listens on. */
  port: number;
  /** Stops it (open connections are closed). */
  close(): void;
}

/** Copies `from` to `to`, each chunk written `delayMs` after it was read. */
async function delayedPipe(from: Deno.Conn, to: Deno.Conn, delayMs: number): Promise<void> {
  let chain = Promise.resolve();
  let failed = false;
  try {
    for (;;) {
      const buf = new Uint8Array(256 * 1024);
      const n = await from.read(buf);
      const due = performance.now() + delayMs;
      if (n === null) {
        chain = chain.then(async () => {
          await sleep(due - performance.now());
          await to.closeWrite().catch(() => {});
        });
        break;
      }
      chain = chain.then(async () => {
        if (failed) return;
        await sleep(due - performance.now());
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }).catch(() => {
        failed = true;
      });
    }
  } catch { /* closed */ }
  await chain.catch(() => {});
}

/**
 * A TCP relay from `port` (0: any free port, or a given one) on 127.0.0.1
 * to `target` on 127.0.0.1 with `delayMs` each way (NODELAY on both sides).
 */
export function tcpDelayRelay(target: number, delayMs: number, port = 0): DelayRelay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const open = new Set<Deno.Conn>();
  (async () => {
    for await (const a of listener) {
      a.setNoDelay(true);
      (async () => {
        // The connection itself takes a round trip.
        await sleep(2 * delayMs);
        const b = await Deno.connect({ hostname: "127.0.0.1", port: target });
        b.setNoDelay(true);
        open.add(a);
        open.add(b);
        await Promise.all([delayedPipe(a, b, delayMs), delayedPipe(b, a, delayMs)]);
        for (const c of [a, b]) {
          open.delete(c);
          try {
            c.close();
          } catch { /* closed */ }
        }
      })().catch(() => {
        try {
          a.close();
        } catch { /* closed */ }
      });
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

/**
 * A UDP relay on 127.0.0.1:`port` to `target` on 127.0.0.1 with `delayMs`
 * each way: one upstream socket per client address (QUIC needs
 * `--unstable-net` for datagrams).
 */
export function udpDelayRelay(target: number, delayMs: number, port: number): DelayRelay {
  const front = Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" });
  const upstreams = new Map<string, Deno.DatagramConn>();
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port: target };
  (async () => {
    for (;;) {
      const [data, from] = await front.receive();
      const key = `${(from as Deno.NetAddr).hostname}:${(from as Deno.NetAddr).port}`;
      let up = upstreams.get(key);
      if (!up) {
        const u = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
        up = u;
        upstreams.set(key, u);
        (async () => {
          for (;;) {
            const [back] = await u.receive();
            setTimeout(() => front.send(back, from).catch(() => {}), delayMs);
          }
        })().catch(() => {});
      }
      const u = up;
      setTimeout(() => u.send(data, to).catch(() => {}), delayMs);
    }
  })().catch(() => {});
  return {
    port: (front.addr as Deno.NetAddr).port,
    close() {
      front.close();
      for (const u of upstreams.values()) u.close();
    },
  };
}
