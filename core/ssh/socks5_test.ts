import assert from "node:assert/strict";
import { fc, FUZZ_SEED } from "../../tests/fuzz_util.ts";
import {
  encodeSocks5Reply,
  formatIPv6,
  parseSocks5Greeting,
  parseSocks5Request,
  parseSocks5UserPass,
  Socks5Reply,
} from "./socks5.ts";

Deno.test("greeting: complete, incomplete, SOCKS4, wrong version, no methods", () => {
  assert.deepEqual(parseSocks5Greeting(new Uint8Array([5, 2, 0, 2])), {
    status: "ok",
    value: { methods: [0, 2] },
    consumed: 4,
  });
  assert.equal(parseSocks5Greeting(new Uint8Array([])).status, "incomplete");
  assert.equal(parseSocks5Greeting(new Uint8Array([5])).status, "incomplete");
  assert.equal(parseSocks5Greeting(new Uint8Array([5, 3, 0])).status, "incomplete");
  const s4 = parseSocks5Greeting(new Uint8Array([4, 1]));
  assert.equal(s4.status, "error");
  assert.match((s4 as { message: string }).message, /SOCKS4/);
  assert.equal(parseSocks5Greeting(new Uint8Array([0x47, 0x45])).status, "error");
  assert.equal(parseSocks5Greeting(new Uint8Array([5, 0])).status, "error");
});

Deno.test("request: IPv4, IPv6, domain, with trailing bytes", () => {
  const v4 = parseSocks5Request(new Uint8Array([5, 1, 0, 1, 10, 0, 0, 1, 0x1f, 0x90, 99]));
  assert.deepEqual(v4, {
    status: "ok",
    value: { command: 1, addressType: 1, host: "10.0.0.1", port: 8080 },
    consumed: 10,
  });
  const six = new Uint8Array(16);
  six[15] = 1;
  const v6 = parseSocks5Request(new Uint8Array([5, 1, 0, 4, ...six, 0, 22]));
  assert.equal(v6.status === "ok" && v6.value.host, "::1");
  const name = new TextEncoder().encode("example.com");
  const d = parseSocks5Request(new Uint8Array([5, 1, 0, 3, name.length, ...name, 1, 187]));
  assert.equal(d.status === "ok" && `${d.value.host}:${d.value.port}`, "example.com:443");
});

Deno.test("request: every truncation is incomplete, never an error or a throw", () => {
  const name = new TextEncoder().encode("example.com");
  for (
    const full of [
      [5, 1, 0, 1, 10, 0, 0, 1, 0, 80],
      [5, 1, 0, 3, name.length, ...name, 0, 80],
      [5, 1, 0, 4, ...new Uint8Array(16), 0, 80],
    ]
  ) {
    for (let n = 0; n < full.length; n++) {
      assert.equal(
        parseSocks5Request(new Uint8Array(full.slice(0, n))).status,
        "incomplete",
        `${n}`,
      );
    }
  }
});

Deno.test("request: reply codes for unsupported commands and address types", () => {
  const bind = parseSocks5Request(new Uint8Array([5, 2, 0, 1]));
  assert.equal(bind.status === "error" && bind.reply, Socks5Reply.COMMAND_NOT_SUPPORTED);
  const udp = parseSocks5Request(new Uint8Array([5, 3, 0, 1]));
  assert.equal(udp.status === "error" && udp.reply, Socks5Reply.COMMAND_NOT_SUPPORTED);
  const atyp = parseSocks5Request(new Uint8Array([5, 1, 0, 7, 0, 0]));
  assert.equal(atyp.status === "error" && atyp.reply, Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED);
  const empty = parseSocks5Request(new Uint8Array([5, 1, 0, 3, 0, 0, 80]));
  assert.equal(empty.status, "error");
  const ctrl = parseSocks5Request(new Uint8Array([5, 1, 0, 3, 2, 10, 13, 0, 80]));
  assert.equal(ctrl.status, "error");
  const ver = parseSocks5Request(new Uint8Array([4, 1, 0, 1]));
  assert.equal(ver.status === "error" && ver.reply, Socks5Reply.GENERAL_FAILURE);
});

Deno.test("hostile bytes: each parser gives ok inside the input, incomplete, or an error with a valid reply (property)", () => {
  // More properties (round trips, mutations, the handshake) in socks5_fuzz_test.ts.
  const replies = new Set<number>(Object.values(Socks5Reply));
  const socksish = fc.tuple(
    fc.constantFrom(5, 5, 4, 1),
    fc.constantFrom(1, 1, 2),
    fc.uint8Array({ maxLength: 40 }),
  )
    .map(([a, b, rest]) => Uint8Array.from([a, b, ...rest]));
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), socksish), (b) => {
      for (const parse of [parseSocks5Greeting, parseSocks5Request, parseSocks5UserPass]) {
        const r = parse(b);
        if (r.status === "ok") assert.ok(r.consumed >= 1 && r.consumed <= b.length);
        else if (r.status === "error") {
          assert.ok(r.message.length > 0);
          if (r.reply !== undefined) assert.ok(replies.has(r.reply));
        } else assert.equal(r.status, "incomplete");
      }
      const req = parseSocks5Request(b);
      if (req.status === "ok") {
        assert.equal(req.value.command, 1);
        assert.equal(req.value.port, (b[req.consumed - 2] << 8) | b[req.consumed - 1]);
        if (req.value.addressType === 3) assert.match(req.value.host, /^[\x21-\x7e]+$/);
      }
    }),
    { seed: FUZZ_SEED, numRuns: 20_000 },
  );
});

Deno.test("username/password sub-negotiation and reply encoding", () => {
  const r = parseSocks5UserPass(new Uint8Array([1, 3, 97, 98, 99, 2, 120, 121]));
  assert.deepEqual(r, { status: "ok", value: { username: "abc", password: "xy" }, consumed: 8 });
  assert.equal(parseSocks5UserPass(new Uint8Array([1, 3, 97])).status, "incomplete");
  assert.equal(parseSocks5UserPass(new Uint8Array([2, 0, 0])).status, "error");
  assert.deepEqual(Array.from(encodeSocks5Reply(5)), [5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
});

Deno.test("IPv6 formatting follows RFC 5952", () => {
  const g = (...groups: number[]) => new Uint8Array(groups.flatMap((x) => [x >> 8, x & 255]));
  assert.equal(formatIPv6(g(0, 0, 0, 0, 0, 0, 0, 0)), "::");
  assert.equal(formatIPv6(g(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), "2001:db8::1");
  assert.equal(formatIPv6(g(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1)), "2001:db8:0:1::1");
  assert.equal(formatIPv6(g(1, 0, 2, 3, 4, 5, 6, 7)), "1:0:2:3:4:5:6:7");
  assert.equal(formatIPv6(g(0xfe80, 0, 0, 0, 0, 0, 0, 0)), "fe80::");
});
