import assert from "node:assert/strict";
import {
  listenersOn,
  setListenerNoDelay,
  shutdownSocket,
  socketFfiSupported,
  steerToNewestListener,
} from "./socket_ffi.ts";
import { selfSignedCertificate } from "./certs.ts";

const libc = Deno.dlopen("libc.so.6", {
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
});

/** TCP_NODELAY of every socket of this process whose local port is `port` and state `st`. */
function noDelayOf(port: number, st: string): number[] {
  const inodes = new Set<string>();
  for (const line of Deno.readTextFileSync("/proc/self/net/tcp").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && parseInt(f[1].split(":")[1], 16) === port && f[3] === st) inodes.add(f[9]);
  }
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    let link = "";
    try {
      link = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (!m || !inodes.has(m[1])) continue;
    const v = new Int32Array(1);
    const len = new Uint32Array([4]);
    libc.symbols.getsockopt(Number(e.name), 6, 1, v, len);
    out.push(v[0]);
  }
  return out;
}

/** `p`, or a failure after `ms` (a wait that never ends fails instead of hanging). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function tlsKeys() {
  const dir = await Deno.makeTempDir({ prefix: "alknet-ffi-" });
  const ck = await selfSignedCertificate(dir);
  await Deno.remove(dir, { recursive: true });
  return ck;
}

Deno.test("socket_ffi: supported here (Linux, -A, --unstable-net)", () => {
  assert.equal(socketFfiSupported(), true);
});

Deno.test("socket_ffi: TCP_NODELAY set on a TLS listener is inherited by what it accepts", async () => {
  const ck = await tlsKeys();
  const l = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: ck.cert, key: ck.key });
  const port = (l.addr as Deno.NetAddr).port;
  try {
    assert.deepEqual(noDelayOf(port, "0A"), [0]);
    assert.equal(setListenerNoDelay(port), true);
    assert.deepEqual(noDelayOf(port, "0A"), [1]);
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    const s = await l.accept();
    assert.deepEqual(noDelayOf(port, "01"), [1]);
    s.close();
    c.close();
  } finally {
    l.close();
  }
  assert.equal(setListenerNoDelay(port), false);
});

Deno.test("socket_ffi: listenersOn counts overlapping listeners (same address, wildcards)", () => {
  const a = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (a.addr as Deno.NetAddr).port;
  try {
    assert.equal(listenersOn("127.0.0.1", port), 1);
    assert.equal(listenersOn("0.0.0.0", port), 1);
    assert.equal(listenersOn("::", port), 1);
    assert.equal(listenersOn("127.0.0.2", port), 0);
    assert.equal(listenersOn("::1", port), 0);
    assert.equal(listenersOn("localhost", port), 0); // not an IP literal
  } finally {
    a.close();
  }
});

Deno.test("socket_ffi: a TLS connection closed before its handshake is ended by shutdownSocket", async () => {
  const ck = await tlsKeys();
  const l = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: ck.cert, key: ck.key });
  const port = (l.addr as Deno.NetAddr).port;
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    const s = await l.accept();
    const [local, remote] = [s.localAddr as Deno.NetAddr, s.remoteAddr as Deno.NetAddr];
    s.close(); // Deno alone would keep the socket open until the client speaks
    shutdownSocket(local, remote);
    // The silent client sees the end of the stream.
    assert.equal(await within(c.read(new Uint8Array(16)), 30_000, "end of stream"), null);
    c.close();
  } finally {
    l.close();
  }
});

Deno.test("socket_ffi: steerToNewestListener sends every new connection to the second listener", async () => {
  const a = Deno.listen({ hostname: "127.0.0.1", port: 0, reusePort: true });
  const port = (a.addr as Deno.NetAddr).port;
  const b = Deno.listen({ hostname: "127.0.0.1", port, reusePort: true });
  try {
    assert.equal(listenersOn("127.0.0.1", port), 2);
    assert.equal(steerToNewestListener(port), true);
    const clients: Deno.Conn[] = [];
    for (let i = 0; i < 20; i++) clients.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    for (let i = 0; i < 20; i++) (await within(b.accept(), 30_000, `connection ${i}`)).close();
    for (const c of clients) c.close();
  } finally {
    a.close();
    b.close();
  }
});
