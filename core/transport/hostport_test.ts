import assert from "node:assert/strict";
import fc from "fast-check";
import { CoreError } from "../util/errors.ts";
import {
  ForwardSpecError,
  hostPort,
  parseHost,
  parseHostPort,
  parsePort,
  splitHostPortList,
} from "./hostport.ts";

Deno.test("hostport: parse HOST:PORT, [IPv6]:PORT and a bare port", () => {
  assert.deepEqual(parseHostPort("example.com:22"), { host: "example.com", port: 22 });
  assert.deepEqual(parseHostPort("[::1]:2222"), { host: "::1", port: 2222 });
  assert.deepEqual(parseHostPort("[fe80::1%25]:22"), { host: "fe80::1%25", port: 22 });
  assert.deepEqual(parseHostPort("10.0.0.1:0"), { host: "10.0.0.1", port: 0 });
  assert.deepEqual(parseHostPort("1080", "127.0.0.1"), { host: "127.0.0.1", port: 1080 });
});

Deno.test("hostport: malformed addresses are ForwardSpecError (a CoreError)", () => {
  const cases: [string, RegExp][] = [
    ["::1:22", /must be HOST:PORT/],
    ["host", /must be HOST:PORT/],
    ["[::1:22", /must be HOST:PORT/],
    ["host:http", /port 'http'/],
    ["host:65536", /out of range/],
    [":22", /host is empty/],
    ["a b:22", /not a host name/],
    ["a/b:22", /not a host name/],
    ["[x:y]:22", /not a host name/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseHostPort(text),
      (e: unknown) =>
        e instanceof ForwardSpecError && e instanceof CoreError && e.code === "forward-spec" &&
        re.test(e.message),
      text,
    );
  }
  assert.throws(() => parseHostPort("0", "127.0.0.1"), /out of range/);
});

Deno.test("hostport: the formatter brackets IPv6 only", () => {
  assert.equal(hostPort("::1", 22), "[::1]:22");
  assert.equal(hostPort("2001:db8::1", 443), "[2001:db8::1]:443");
  assert.equal(hostPort("127.0.0.1", 80), "127.0.0.1:80");
  assert.equal(hostPort("example.com", 0), "example.com:0");
  assert.equal(hostPort("[::1]", 22), "[::1]:22");
});

Deno.test("hostport: building blocks", () => {
  assert.deepEqual(splitHostPortList("a:[::1]:b"), ["a", "[::1]", "b"]);
  assert.equal(splitHostPortList("[[::1]]:1"), null);
  assert.equal(splitHostPortList("]:1"), null);
  assert.equal(parsePort("65535"), 65535);
  assert.throws(() => parsePort("0"), ForwardSpecError);
  assert.throws(() => parsePort("-1"), ForwardSpecError);
  assert.throws(() => parsePort("123456"), ForwardSpecError);
  assert.equal(parseHost("[::1]"), "::1");
  assert.throws(() => parseHost("[]"), /empty/);
});

const ipv6 = fc.ipV6();
const host = fc.oneof(fc.ipV4(), ipv6, fc.domain());
const port = fc.integer({ min: 0, max: 65535 });

Deno.test("hostport: format then parse is the identity (property)", () => {
  fc.assert(
    fc.property(host, port, (h, p) => {
      assert.deepEqual(parseHostPort(hostPort(h, p)), { host: h, port: p });
    }),
  );
});

Deno.test("hostport: an unbracketed IPv6 address never parses as HOST:PORT (property)", () => {
  fc.assert(
    fc.property(ipv6.filter((a) => (a.match(/:/g) ?? []).length > 1), port, (a, p) => {
      assert.throws(() => parseHostPort(`${a}:${p}`), ForwardSpecError);
    }),
  );
});
