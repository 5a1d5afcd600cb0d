// Property-based fuzzing of the SOCKS5 server decoders: greeting, request,
// RFC 1929 username/password, and the handshake that drives them over a
// connection delivering hostile bytes in arbitrary chunks.
import assert from "node:assert/strict";
import {
  concat,
  cutPoints,
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedBytes,
  outcomeAsync,
  rawBytes,
} from "../../tests/fuzz_util.ts";
import { parseIPv6 } from "../transport/addr.ts";
import type { ByteConn } from "../transport/stream.ts";
import {
  type ParseResult,
  parseSocks5Greeting,
  parseSocks5Request,
  parseSocks5UserPass,
  Socks5Error,
  socks5Handshake,
  Socks5Reply,
  type Socks5Request,
} from "./socks5.ts";

const REPLIES = new Set<number>(Object.values(Socks5Reply));
const utf8 = new TextEncoder();

type Parser = (b: Uint8Array) => ParseResult<unknown>;

/** Checks the shape of any parse result and that `consumed` stays inside the input. */
function checkResult(r: ParseResult<unknown>, buf: Uint8Array): void {
  if (r.status === "ok") {
    assert.ok(Number.isInteger(r.consumed) && r.consumed >= 1 && r.consumed <= buf.length);
  } else if (r.status === "error") {
    assert.equal(typeof r.message, "string");
    assert.ok(r.message.length > 0);
    if (r.reply !== undefined) assert.ok(REPLIES.has(r.reply), `reply ${r.reply}`);
  } else {
    assert.equal(r.status, "incomplete");
  }
}

function checkGreeting(buf: Uint8Array): ParseResult<unknown> {
  const r = parseSocks5Greeting(buf);
  checkResult(r, buf);
  if (r.status === "ok") {
    const n = buf[1];
    assert.equal(buf[0], 5);
    assert.equal(r.consumed, 2 + n);
    assert.deepEqual(r.value.methods, Array.from(buf.subarray(2, 2 + n)));
  }
  return r;
}

function checkRequest(buf: Uint8Array): ParseResult<unknown> {
  const r = parseSocks5Request(buf);
  checkResult(r, buf);
  if (r.status === "ok") {
    const v: Socks5Request = r.value;
    const end = r.consumed;
    assert.equal(v.command, 1);
    assert.equal(v.port, (buf[end - 2] << 8) | buf[end - 1]);
    assert.ok(v.host.length > 0);
    if (v.addressType === 1) {
      assert.equal(end, 10);
      assert.equal(v.host, Array.from(buf.subarray(4, 8)).join("."));
    } else if (v.addressType === 4) {
      assert.equal(end, 22);
      // The RFC 5952 text parses back to the same 16 bytes.
      assert.deepEqual(parseIPv6(v.host), buf.slice(4, 20));
    } else {
      assert.equal(v.addressType, 3);
      assert.equal(end, 5 + buf[4] + 2);
      assert.match(v.host, /^[\x21-\x7e]+$/);
      assert.equal(v.host, String.fromCharCode(...buf.subarray(5, 5 + buf[4])));
    }
  }
  return r;
}

function checkUserPass(buf: Uint8Array): ParseResult<unknown> {
  const r = parseSocks5UserPass(buf);
  checkResult(r, buf);
  if (r.status === "ok") {
    const ulen = buf[1];
    assert.equal(buf[0], 1);
    assert.equal(r.consumed, 3 + ulen + buf[2 + ulen]);
  }
  return r;
}

const CHECKS: [string, (b: Uint8Array) => ParseResult<unknown>][] = [
  ["greeting", checkGreeting],
  ["request", checkRequest],
  ["userpass", checkUserPass],
];

/**
 * The incremental contract the handshake relies on, fed one byte at a time
 * (at most `buf.length + 1` parser calls): every prefix before the first
 * verdict is incomplete, and once a verdict (ok or error) is reached, longer
 * input gives the same verdict with the same value and `consumed`.
 */
function checkPrefixStable(parse: Parser, buf: Uint8Array): void {
  let verdict: ParseResult<unknown> | null = null;
  for (let n = 0; n <= buf.length; n++) {
    const r = parse(buf.subarray(0, n));
    if (verdict === null) {
      if (r.status !== "incomplete") verdict = r;
      continue;
    }
    assert.equal(r.status, verdict.status, `prefix ${n}: verdict changed`);
    if (r.status === "ok" && verdict.status === "ok") {
      assert.equal(r.consumed, verdict.consumed);
      assert.deepEqual(r.value, verdict.value);
    }
  }
}

/** Bytes that look like SOCKS: first byte often 5 (or 4, 1), command often CONNECT. */
const socksish = fc.tuple(
  fc.constantFrom(5, 5, 5, 4, 1, 0, 0x47),
  fc.constantFrom(1, 1, 2, 3, 0, 255),
  fc.constantFrom(0, 0, 1),
  fc.constantFrom(1, 3, 4, 0, 2, 255),
  fc.uint8Array({ maxLength: 300 }),
).map(([a, b, c, d, rest]) => concat(Uint8Array.of(a, b, c, d), rest));

// ---------------------------------------------------------------------------
// Valid inputs and their encoders.

interface RequestSpec {
  addressType: 1 | 3 | 4;
  addr: Uint8Array;
  port: number;
}

const domainName = fc.string({
  minLength: 1,
  maxLength: 255,
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
});

const requestSpec: fc.Arbitrary<RequestSpec> = fc.oneof(
  fc.record({
    addressType: fc.constant(1 as const),
    addr: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    port: fc.integer({ min: 0, max: 65535 }),
  }),
  fc.record({
    addressType: fc.constant(4 as const),
    addr: fc.oneof(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      // Zero runs exercise the RFC 5952 compression.
      fc.array(fc.constantFrom(0, 0, 0, 1, 0xff), { minLength: 16, maxLength: 16 }).map((a) =>
        Uint8Array.from(a)
      ),
    ),
    port: fc.integer({ min: 0, max: 65535 }),
  }),
  fc.record({
    addressType: fc.constant(3 as const),
    addr: domainName.map((s) => utf8.encode(s)),
    port: fc.integer({ min: 0, max: 65535 }),
  }),
);

function encodeRequest(r: RequestSpec): Uint8Array {
  const addr = r.addressType === 3 ? concat(Uint8Array.of(r.addr.length), r.addr) : r.addr;
  return concat(
    Uint8Array.of(5, 1, 0, r.addressType),
    addr,
    Uint8Array.of(r.port >> 8, r.port & 255),
  );
}

function encodeGreeting(methods: readonly number[]): Uint8Array {
  return Uint8Array.from([5, methods.length, ...methods]);
}

const methodList = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 255 });

/** UTF-8 text of at most 255 bytes. */
const credential = fc.string({ maxLength: 80, unit: "binary" }).filter((s) =>
  utf8.encode(s).length <= 255
);

function encodeUserPass(u: string, p: string): Uint8Array {
  const ub = utf8.encode(u), pb = utf8.encode(p);
  return concat(Uint8Array.of(1, ub.length), ub, Uint8Array.of(pb.length), pb);
}

const validMessage = fc.oneof(
  requestSpec.map(encodeRequest),
  methodList.map(encodeGreeting),
  fc.tuple(credential, credential).map(([u, p]) => encodeUserPass(u, p)),
);

// ---------------------------------------------------------------------------
// The handshake over a connection that delivers chunks, then end of stream.

class ChunkConn implements ByteConn {
  #chunks: Uint8Array[];
  reads = 0;
  delivered = 0;
  written: Uint8Array[] = [];
  closed = false;
  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks.map((c) => c.slice());
  }
  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    const c = this.#chunks.shift();
    if (c === undefined || this.closed) return Promise.resolve(null);
    const n = Math.min(p.length, c.length);
    p.set(c.subarray(0, n));
    if (n < c.length) this.#chunks.unshift(c.subarray(n));
    this.delivered += n;
    return Promise.resolve(n);
  }
  write(p: Uint8Array): Promise<number> {
    this.written.push(p.slice());
    return Promise.resolve(p.length);
  }
  close(): void {
    this.closed = true;
  }
}

const CREDS = { username: "user", password: "pässword" };

/** A client's whole conversation: greeting, maybe credentials, request, optimistic data. */
const conversation = fc.tuple(
  fc.boolean(),
  fc.oneof(
    fc.constant([0]),
    fc.constant([2]),
    fc.constant([0, 2]),
    methodList,
  ),
  fc.oneof(
    fc.constant(CREDS),
    fc.record({ username: credential, password: credential }),
  ),
  requestSpec,
  fc.uint8Array({ maxLength: 40 }),
).map(([withAuth, methods, creds, req, extra]) => ({
  withAuth,
  bytes: concat(
    encodeGreeting(methods),
    withAuth ? encodeUserPass(creds.username, creds.password) : new Uint8Array(0),
    encodeRequest(req),
    extra,
  ),
}));

async function checkHandshake(bytes: Uint8Array, cuts: number[], withAuth: boolean) {
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b)) {
    if (c > prev) chunks.push(bytes.subarray(prev, c));
    prev = Math.max(prev, c);
  }
  if (prev < bytes.length) chunks.push(bytes.subarray(prev));
  const conn = new ChunkConn(chunks);
  const r = await outcomeAsync(
    () => socks5Handshake(conn, withAuth ? { credentials: CREDS } : {}),
    [Socks5Error],
  );
  // Bounded: the handshake never reads past end of stream, nor more than once per chunk + 1.
  assert.ok(conn.reads <= chunks.length + 1, `${conn.reads} reads for ${chunks.length} chunks`);
  if (r.ok) {
    const { request, leftover } = r.value;
    assert.equal(request.command, 1);
    // The leftover is exactly what was read after the request, and the
    // request is the bytes just before it.
    const end = conn.delivered - leftover.length;
    assert.deepEqual(leftover, bytes.slice(end, conn.delivered));
    const reparse = parseSocks5Request(bytes.subarray(end - encodedLength(request), end));
    assert.equal(reparse.status, "ok");
    if (reparse.status === "ok") assert.deepEqual(reparse.value, request);
  }
}

function encodedLength(r: Socks5Request): number {
  return r.addressType === 1 ? 10 : r.addressType === 4 ? 22 : 7 + r.host.length;
}

export const cases: FuzzCase[] = [
  {
    name:
      "socks5 greeting/request/userpass: raw bytes give ok, incomplete or error with a valid reply",
    runs: 2800,
    property: fc.property(fc.oneof(rawBytes, socksish), (buf) => {
      for (const [, check] of CHECKS) check(buf);
    }),
  },
  {
    name: "socks5 parsers: fed byte by byte, the verdict never changes once reached",
    runs: 1050,
    property: fc.property(
      fc.oneof(socksish, validMessage, mutatedBytes(validMessage)),
      (buf) => {
        checkPrefixStable(parseSocks5Greeting, buf);
        checkPrefixStable(parseSocks5Request, buf);
        checkPrefixStable(parseSocks5UserPass, buf);
      },
    ),
  },
  {
    name: "socks5 parsers: mutated valid messages (truncation, bit flips, lying lengths)",
    runs: 2800,
    property: fc.property(mutatedBytes(validMessage), (buf) => {
      for (const [, check] of CHECKS) check(buf);
    }),
  },
  {
    name: "socks5 request: encode -> parse round trip (IPv4, IPv6, domain; trailing data kept)",
    runs: 2100,
    property: fc.property(requestSpec, fc.uint8Array({ maxLength: 8 }), (spec, extra) => {
      const enc = encodeRequest(spec);
      const r = checkRequest(concat(enc, extra));
      assert.equal(r.status, "ok");
      if (r.status !== "ok") return;
      const v = r.value as Socks5Request;
      assert.equal(r.consumed, enc.length);
      assert.equal(v.addressType, spec.addressType);
      assert.equal(v.port, spec.port);
      if (spec.addressType === 3) assert.equal(v.host, new TextDecoder().decode(spec.addr));
      if (spec.addressType === 4) assert.deepEqual(parseIPv6(v.host), spec.addr);
    }),
  },
  {
    name: "socks5 greeting and userpass: encode -> parse round trip",
    runs: 1400,
    property: fc.property(methodList, credential, credential, (methods, u, p) => {
      const g = parseSocks5Greeting(encodeGreeting(methods));
      assert.deepEqual(g, {
        status: "ok",
        value: { methods },
        consumed: methods.length + 2,
      });
      const up = parseSocks5UserPass(encodeUserPass(u, p));
      assert.equal(up.status, "ok");
      if (up.status === "ok") assert.deepEqual(up.value, { username: u, password: p });
    }),
  },
  {
    name:
      "socks5 handshake: chunked valid and mutated conversations end accepted or in Socks5Error",
    runs: 1050,
    property: fc.asyncProperty(
      fc.oneof(
        conversation,
        conversation.chain((c) =>
          mutatedBytes(fc.constant(c.bytes)).map((bytes) => ({ withAuth: c.withAuth, bytes }))
        ),
        fc.tuple(fc.boolean(), fc.oneof(rawBytes, socksish)).map(([withAuth, bytes]) => ({
          withAuth,
          bytes,
        })),
      ),
      cutPoints,
      async (c, cuts) => await checkHandshake(c.bytes, cuts, c.withAuth),
    ),
  },
];

fuzzTests(cases);
