// Property-based fuzzing of HOST:PORT parsing (listen and connect
// addresses, the pieces of forward specs and URLs): hostile and mutated
// text, format -> parse round trips, and parse -> format -> parse
// idempotence.
import assert from "node:assert/strict";
import {
  bracketed,
  fc,
  type FuzzCase,
  fuzzTests,
  hostName,
  mutatedText,
  outcome,
  rawText,
} from "../../tests/fuzz_util.ts";
import { ForwardSpecError, hostPort, parseHostPort, splitHostPortList } from "./hostport.ts";

const port = fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(0, 1, 65535));

function check(text: string, defaultHost?: string) {
  const r = outcome(() => parseHostPort(text, defaultHost), [ForwardSpecError]);
  if (!r.ok) return r.error;
  const { host, port } = r.value;
  assert.ok(host.length > 0);
  assert.ok(Number.isInteger(port) && port >= 0 && port <= 65535);
  if (host !== defaultHost) assert.doesNotMatch(host, /[\s/\\@]/);
  // The canonical form parses back to the same address.
  assert.deepEqual(parseHostPort(hostPort(host, port)), { host, port });
  return r.value;
}

const valid = fc.tuple(hostName, port).map(([h, p]) => `${bracketed(h)}:${p}`);

export const cases: FuzzCase[] = [
  {
    name:
      "host:port: raw and mutated text give an address (canonical form reparses) or ForwardSpecError",
    runs: 3500,
    property: fc.property(
      fc.oneof(rawText, mutatedText(valid), fc.stringMatching(/^[\[\]:0-9a-f.%]{0,16}$/)),
      fc.option(fc.constantFrom("127.0.0.1", "::1"), { nil: undefined }),
      (t, d) => {
        void check(t, d);
        const parts = splitHostPortList(t);
        if (parts) assert.equal(parts.join(":"), t);
      },
    ),
  },
  {
    name: "host:port: hostPort -> parseHostPort round trip (names, IPv4, IPv6 with zones)",
    runs: 2100,
    property: fc.property(hostName, port, (h, p) => {
      assert.deepEqual(check(hostPort(h, p)), { host: h, port: p });
      if (p > 0) assert.deepEqual(check(String(p), "127.0.0.1"), { host: "127.0.0.1", port: p });
    }),
  },
];

fuzzTests(cases);
