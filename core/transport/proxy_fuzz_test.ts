// Property-based fuzzing of the HTTP CONNECT client against a hostile
// upstream proxy on 127.0.0.1: scripted responses in chunks end in a
// connection exactly when the status line is 2xx (the bytes after the
// header stay in the connection for the target), else in ProxyError; the
// proxy receives exactly one well-formed CONNECT request, and a target host
// that would inject header lines is refused before anything is sent.
import assert from "node:assert/strict";
import {
  chunked,
  concat,
  cutPoints,
  fc,
  type FuzzCase,
  fuzzTests,
  hostName,
  mutatedBytes,
  outcomeAsync,
  rawBytes,
} from "../../tests/fuzz_util.ts";
import { hostPort } from "./hostport.ts";
import { ProxyError } from "./errors.ts";
import { dialViaProxy } from "./proxy.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One hostile proxy per property run: answers each connection with the next script. */
class HostileProxy {
  #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }
  /** Accepts one connection: reads the request head (bounded), writes `chunks`, closes. */
  async serveOne(chunks: Uint8Array[]): Promise<string> {
    const conn = await this.#listener.accept();
    const got: number[] = [];
    const buf = new Uint8Array(4096);
    try {
      while (got.length < 64 * 1024 && !dec.decode(new Uint8Array(got)).includes("\r\n\r\n")) {
        const n = await conn.read(buf);
        if (n === null) break;
        got.push(...buf.subarray(0, n));
      }
      for (const c of chunks) await conn.write(c).catch(() => 0);
    } finally {
      conn.close();
    }
    return dec.decode(new Uint8Array(got));
  }
  close(): void {
    this.#listener.close();
  }
}

/** What the client must decide from the whole response. */
function expected(resp: Uint8Array): { ok: boolean; headLength: number } {
  const text = dec.decode(resp);
  const end = findHeadEnd(resp);
  // The client reads at most 16 KiB - 1 of response head.
  if (end < 0 || end >= 16 * 1024) return { ok: false, headLength: -1 };
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text.split("\r\n")[0]);
  const status = m ? Number(m[1]) : 0;
  return { ok: status >= 200 && status <= 299, headLength: end };
}

function findHeadEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) {
    if (b[i - 3] === 13 && b[i - 2] === 10 && b[i - 1] === 13 && b[i] === 10) return i + 1;
  }
  return -1;
}

const response = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.tuple(
      fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2", "http/1.1", "ICY"),
      fc.constantFrom(200, 204, 299, 300, 403, 407, 502, 504, 100),
      fc.constantFrom("Connection established", "OK", "", "Bad\u00e9"),
      fc.array(fc.constantFrom("Via: x", "Proxy-Agent: fuzz", "X-Long: " + "a".repeat(100)), {
        maxLength: 3,
      }),
      fc.uint8Array({ maxLength: 20 }),
    ).map(([v, s, reason, headers, extra]) =>
      concat(
        enc.encode(`${v} ${s} ${reason}\r\n${headers.map((h) => h + "\r\n").join("")}\r\n`),
        extra,
      )
    ),
  },
  // Heads around the 16 KiB limit (read one byte at a time: rare, they are slow).
  fc.integer({ min: 16 * 1024 - 40, max: 16 * 1024 + 20 }).map((n) =>
    enc.encode(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(n - 23)}\r\n\r\n`)
  ),
);

const hostile = fc.constantFrom(
  "a\r\nX-Injected: 1",
  "b\nc",
  "d e",
  "f\0",
  "g\tx",
  "h\r",
  "i\x7f",
);

async function check(resp: Uint8Array, cuts: number[], host: string, port: number) {
  const p = new HostileProxy();
  try {
    await checkWith(p, resp, cuts, host, port);
  } finally {
    p.close();
  }
}

async function checkWith(
  p: HostileProxy,
  resp: Uint8Array,
  cuts: number[],
  host: string,
  port: number,
) {
  const injected = /[\0-\x20\x7f]/.test(host);
  const served = p.serveOne(chunked(resp, cuts));
  const r = await outcomeAsync(
    () => dialViaProxy(`http://127.0.0.1:${p.port}`, host, port, 10_000),
    [ProxyError],
  );
  if (injected) {
    // Refused before sending a byte: let the proxy accept a silent connection of ours.
    assert.ok(!r.ok);
    const c = await Deno.connect({ hostname: "127.0.0.1", port: p.port }).catch(() => null);
    c?.close();
    const req = await served;
    assert.ok(!req.includes("CONNECT"), JSON.stringify(req));
    return;
  }
  const req = await served;
  const authority = hostPort(host, port);
  assert.equal(req, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const want = expected(resp);
  assert.equal(r.ok, want.ok);
  if (r.ok) {
    // The bytes after the response head belong to the target and are still readable.
    const conn = r.value;
    const rest: number[] = [];
    const buf = new Uint8Array(1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      rest.push(...buf.subarray(0, n));
    }
    conn.close();
    assert.deepEqual(new Uint8Array(rest), resp.subarray(want.headLength));
  }
}

export const cases: FuzzCase[] = [
  {
    name:
      "http proxy client: hostile responses in chunks give a connection exactly on 2xx (target bytes kept) or ProxyError",
    runs: 120,
    property: fc.asyncProperty(
      fc.oneof(response, mutatedBytes(response), rawBytes),
      cutPoints,
      hostName,
      fc.integer({ min: 1, max: 65535 }),
      async (resp, cuts, host, port) => await check(resp, cuts, host, port),
    ),
  },
  {
    name:
      "http proxy client: a target host with CR, LF, space or control characters is refused before sending",
    runs: 30,
    property: fc.asyncProperty(
      hostile,
      response,
      async (host, resp) => await check(resp, [], host, 443),
    ),
  },
];

fuzzTests(cases);
