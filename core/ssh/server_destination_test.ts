import assert from "node:assert/strict";
import { fc } from "../../tests/fuzz_util.ts";
import { parseIPv4 } from "../transport/addr.ts";
import { destinationProblem } from "./server_destination.ts";

Deno.test("destinationProblem: well-formed hosts and ports pass", () => {
  for (
    const host of [
      "example.com",
      "example.com.",
      "a-b_c.example",
      "localhost",
      "alknet-control",
      "x".repeat(63) + ".example",
      "10.0.0.1",
      "255.255.255.255",
      "::1",
      "2001:db8::1",
      "::ffff:10.0.0.1",
      "fe80::1%eth0",
      "3com.example",
    ]
  ) {
    for (const port of [1, 22, 65535]) {
      assert.equal(destinationProblem(host, port), undefined, host);
    }
  }
});

Deno.test("destinationProblem: says what is wrong", () => {
  const cases: [string, number, string][] = [
    ["example.com", 0, "port-out-of-range"],
    ["example.com", -1, "port-out-of-range"],
    ["example.com", 65536, "port-out-of-range"],
    ["example.com", 1.5, "port-out-of-range"],
    ["example.com", NaN, "port-out-of-range"],
    ["", 22, "empty-host"],
    ["a".repeat(256), 22, "host-too-long"],
    ["é".repeat(128), 22, "host-too-long"], // 256 bytes in UTF-8
    ["a\0b", 22, "host-control-or-space"],
    ["a b", 22, "host-control-or-space"],
    ["a\u00a0b", 22, "host-control-or-space"],
    ["a\u2028b", 22, "host-control-or-space"],
    ["a\x7fb", 22, "host-control-or-space"],
    ["a\x85b", 22, "host-control-or-space"],
    ["é.example", 22, "host-not-name-or-ip"],
    ["a..b", 22, "host-not-name-or-ip"],
    [".a", 22, "host-not-name-or-ip"],
    ["a/b", 22, "host-not-name-or-ip"],
    ["a@b", 22, "host-not-name-or-ip"],
    ["x".repeat(64) + ".example", 22, "host-not-name-or-ip"],
    ["[::1]", 22, "host-not-name-or-ip"],
    ["::1::2", 22, "host-not-name-or-ip"],
    ["fe80::1%", 22, "host-not-name-or-ip"],
    ["fe80::1%a/b", 22, "host-not-name-or-ip"],
    // Numeric forms a resolver reads as IPv4 but the policy does not.
    ["127.1", 22, "host-not-name-or-ip"],
    ["0x7f000001", 22, "host-not-name-or-ip"],
    ["0x7f.0.0.1", 22, "host-not-name-or-ip"],
    ["2130706433", 22, "host-not-name-or-ip"],
    ["010.0.0.1", 22, "host-not-name-or-ip"],
    ["127.0.0.1.", 22, "host-not-name-or-ip"],
    ["256.0.0.1", 22, "host-not-name-or-ip"],
    ["1.2.3.4.5", 22, "host-not-name-or-ip"],
  ];
  for (const [host, port, want] of cases) {
    assert.equal(destinationProblem(host, port), want, JSON.stringify([host, port]));
  }
});

Deno.test("destinationProblem: any text and port gives an answer; what passes has no control byte, fits, and is a strict address or has a non-numeric label", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ unit: "binary", maxLength: 80 }),
        fc.domain(),
      ),
      fc.oneof(fc.integer(), fc.integer({ min: 0, max: 70000 })),
      (host, port) => {
        const p = destinationProblem(host, port);
        if (p !== undefined) return;
        assert.ok(port >= 1 && port <= 65535);
        assert.ok(host.length > 0 && new TextEncoder().encode(host).length <= 255);
        assert.ok(!/[\s]/.test(host) && ![...host].some((c) => c.charCodeAt(0) < 0x20));
        if (!host.includes(":") && parseIPv4(host) === null) {
          assert.ok(
            host.replace(/\.$/, "").split(".").some((l) => !/^(0x[0-9a-f]*|[0-9]+)$/i.test(l)) ||
              host.split(".").length > 4,
          );
        }
      },
    ),
    { numRuns: 2000 },
  );
});
