// Property-based fuzzing of the SOCKS5 client (talking to an upstream proxy,
// which may be hostile): replies in arbitrary chunks end in success exactly
// when they form a valid RFC 1928 exchange, else in Socks5ClientError; reads
// stay bounded; the request it sends encodes the target it was given.
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
import { parseIPv6 } from "./addr.ts";
import { socks5ClientConnect, Socks5ClientError } from "./socks5_client.ts";
import type { ByteConn } from "./stream.ts";

class ProxyConn implements ByteConn {
  #chunks: Uint8Array[];
  reads = 0;
  written: Uint8Array[] = [];
  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks.map((c) => c.slice());
  }
  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    const c = this.#chunks.shift();
    if (c === undefined) return Promise.resolve(null);
    const n = Math.min(p.length, c.length);
    p.set(c.subarray(0, n));
    if (n < c.length) this.#chunks.unshift(c.subarray(n));
    return Promise.resolve(n);
  }
  write(p: Uint8Array): Promise<number> {
    this.written.push(p.slice());
    return Promise.resolve(p.length);
  }
  close(): void {}
}

/** Whether `b` is a complete, successful proxy side of the exchange (RFC 1928/1929). */
function succeeds(b: Uint8Array, withCreds: boolean): boolean {
  let o = 0;
  const have = (n: number) => o + n <= b.length;
  if (!have(2) || b[0] !== 5) return false;
  const method = b[1];
  o = 2;
  if (method === 2 && withCreds) {
    if (!have(2) || b[o + 1] !== 0) return false;
    o += 2;
  } else if (method !== 0) return false;
  if (!have(4) || b[o + 1] !== 0) return false;
  const atyp = b[o + 3];
  o += 4;
  let addr: number;
  if (atyp === 1) addr = 4;
  else if (atyp === 4) addr = 16;
  else {
    if (!have(1)) return false;
    addr = b[o];
    o += 1;
  }
  return have(addr + 2);
}

/** Decodes the CONNECT request the client wrote. */
function requestTarget(b: Uint8Array): { host: string | Uint8Array; port: number } {
  assert.deepEqual([...b.subarray(0, 3)], [5, 1, 0]);
  const atyp = b[3];
  const port = (b[b.length - 2] << 8) | b[b.length - 1];
  if (atyp === 1) return { host: [...b.subarray(4, 8)].join("."), port };
  if (atyp === 4) return { host: b.slice(4, 20), port };
  assert.equal(atyp, 3);
  assert.equal(b[4], b.length - 7);
  return { host: new TextDecoder().decode(b.subarray(5, 5 + b[4])), port };
}

/** A well-formed proxy side: method choice, maybe auth status, reply with a bound address. */
const validReply = fc.tuple(
  fc.constantFrom(0, 2),
  fc.constantFrom(0, 0, 1),
  fc.constantFrom(0, 0, 1, 5),
  fc.oneof(
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => concat(Uint8Array.of(1), a)),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => concat(Uint8Array.of(4), a)),
    fc.uint8Array({ maxLength: 255 }).map((a) => concat(Uint8Array.of(3, a.length), a)),
  ),
  fc.uint8Array({ minLength: 2, maxLength: 2 }),
).map(([method, authStatus, reply, addr, port]) =>
  concat(
    Uint8Array.of(5, method),
    method === 2 ? Uint8Array.of(1, authStatus) : new Uint8Array(0),
    Uint8Array.of(5, reply, 0),
    addr,
    port,
  )
);

const target = fc.tuple(
  fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    hostName.filter((h) => !h.includes(":") && !/^\d+(\.\d+){3}$/.test(h)),
  ),
  fc.integer({ min: 1, max: 65535 }),
);

export const cases: FuzzCase[] = [
  {
    name:
      "socks5 client: hostile proxy replies in chunks succeed exactly when valid, else Socks5ClientError",
    runs: 2100,
    property: fc.asyncProperty(
      fc.oneof(validReply, mutatedBytes(validReply), rawBytes),
      cutPoints,
      fc.boolean(),
      target,
      async (reply, cuts, withCreds, [host, port]) => {
        const chunks = chunked(reply, cuts);
        const conn = new ProxyConn(chunks);
        const creds = withCreds ? { username: "u", password: "p" } : undefined;
        const r = await outcomeAsync(() => socks5ClientConnect(conn, host, port, creds), [
          Socks5ClientError,
        ]);
        assert.equal(r.ok, succeeds(reply, withCreds));
        // Bounded: every read but the last returns at least one byte.
        assert.ok(conn.reads <= reply.length + 1);
        if (!r.ok) {
          const e = r.error as Socks5ClientError;
          assert.ok(e.reply === -1 || (e.reply >= 1 && e.reply <= 255));
        }
      },
    ),
  },
  {
    name: "socks5 client: the CONNECT request encodes the target (IPv4, IPv6, domain) and port",
    runs: 1400,
    property: fc.asyncProperty(target, async ([host, port]) => {
      const reply = Uint8Array.of(5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0);
      const conn = new ProxyConn([reply]);
      await socks5ClientConnect(conn, host, port);
      const req = requestTarget(conn.written[1]);
      assert.equal(req.port, port);
      if (req.host instanceof Uint8Array) assert.deepEqual(req.host, parseIPv6(host));
      else assert.equal(req.host, host);
    }),
  },
];

fuzzTests(cases);
