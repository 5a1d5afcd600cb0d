import assert from "node:assert/strict";
import {
  cidrContains,
  formatIp,
  parseCidr,
  parseIp,
  parseIPv4,
  parseIPv6,
  wildcardMatch,
} from "./addr.ts";

Deno.test("addr: IPv4 parsing is strict", () => {
  assert.deepEqual(parseIPv4("1.2.3.4"), Uint8Array.of(1, 2, 3, 4));
  for (const bad of ["1.2.3", "1.2.3.4.5", "256.1.1.1", "01.1.1.1", "1.2.3.-1", "a.b.c.d", ""]) {
    assert.equal(parseIPv4(bad), null, bad);
  }
});

Deno.test("addr: IPv6 parsing", () => {
  assert.equal(formatIp(parseIPv6("::")!), "::");
  assert.equal(formatIp(parseIPv6("::1")!), "::1");
  assert.equal(formatIp(parseIPv6("fe80::1%eth0")!), "fe80::1");
  assert.equal(formatIp(parseIPv6("2001:db8:0:0:1:0:0:1")!), "2001:db8::1:0:0:1");
  assert.equal(formatIp(parseIPv6("64:ff9b::192.0.2.33")!), "64:ff9b::c000:221");
  for (
    const bad of [":", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::", "::1.2.3"]
  ) {
    assert.equal(parseIPv6(bad), null, bad);
  }
  assert.equal(parseIp("[::1]")!.length, 16);
  assert.deepEqual(parseIp("::ffff:1.2.3.4"), Uint8Array.of(1, 2, 3, 4));
  assert.equal(parseIp("example.com"), null);
});

Deno.test("addr: CIDR", () => {
  assert.equal(cidrContains(parseCidr("10.0.0.0/8"), "10.1.1.1"), true);
  assert.equal(cidrContains(parseCidr("10.0.0.5/32"), "10.0.0.5"), true);
  assert.equal(cidrContains(parseCidr("10.0.0.5/32"), "10.0.0.6"), false);
  assert.equal(cidrContains(parseCidr("2001:db8::/32"), "2001:db8:ffff::1"), true);
  assert.equal(cidrContains(parseCidr("2001:db8::/33"), "2001:db8:ffff::1"), false);
  assert.equal(cidrContains(parseCidr("::/0"), "1.2.3.4"), false);
  assert.throws(() => parseCidr("10.0.0.0"), /missing/);
  assert.throws(() => parseCidr("10.0.0.0/x"), /not a number/);
  assert.throws(() => parseCidr("::/129"), /longer than 128/);
});

Deno.test("addr: wildcards", () => {
  assert.equal(wildcardMatch("*", ""), true);
  assert.equal(wildcardMatch("a?c", "abc"), true);
  assert.equal(wildcardMatch("a?c", "ac"), false);
  assert.equal(wildcardMatch("*.EXAMPLE.com", "www.example.COM"), true);
  assert.equal(
    wildcardMatch("*a*a*a*a*a*b", "a".repeat(5000)),
    false,
    "no catastrophic backtracking",
  );
});

Deno.test("addr: IPv4-compatible ::a.b.c.d stays IPv6 (not read as IPv4-mapped)", () => {
  assert.equal(parseIp("::1.2.3.4")?.length, 16);
  assert.equal(formatIp(parseIp("::1.2.3.4")!), "::102:304");
  assert.deepEqual(parseIp("::ffff:1.2.3.4"), Uint8Array.of(1, 2, 3, 4));
  assert.equal(parseIPv6("::01.2.3.4"), null);
  assert.equal(cidrContains(parseCidr("1.0.0.0/8"), "::1.2.3.4"), false);
});
