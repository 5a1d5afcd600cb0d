// Property-based fuzzing of node addresses (`ssh://`, transport URLs,
// `HOST:PORT`, `iroh://`): hostile and mutated text give a target or a
// TransportUrlError, and a target's URL parses back to the same target.
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
import { TransportUrlError } from "../transport/errors.ts";
import { parseSshTarget } from "./target.ts";

const target = fc.oneof(
  fc.tuple(
    fc.constantFrom("ssh", "SSH", "tcp", "tls", "quic", "ws", "wss", ""),
    hostName,
    fc.integer({ min: 0, max: 65535 }),
    fc.constantFrom("", "/", "/p"),
  ).map(([s, h, p, path]) =>
    `${s ? s + "://" : ""}${bracketed(h)}:${p}${s.startsWith("w") ? path : ""}`
  ),
  fc.tuple(
    fc.stringMatching(/^[0-9a-z]{52,64}$/),
    fc.option(hostName, { nil: undefined }),
    fc.boolean(),
  )
    .map(([id, h, relay]) =>
      `iroh://${id}${h ? `@${bracketed(h)}:1` : ""}${relay ? "" : "?relay=off"}`
    ),
);

export const cases: FuzzCase[] = [
  {
    name:
      "ssh target: raw, generated and mutated addresses give a target (whose url reparses equal) or TransportUrlError",
    runs: 2800,
    property: fc.property(fc.oneof(rawText, target, mutatedText(target)), (t) => {
      const r = outcome(() => parseSshTarget(t), [TransportUrlError]);
      if (!r.ok) return;
      const s = r.value;
      assert.ok(s.port >= 1 && s.port <= 65535);
      assert.ok(s.host.length > 0);
      assert.equal(s.url, t);
      assert.deepEqual(parseSshTarget(s.url), s);
    }),
  },
  {
    name: "ssh target: { host, port } objects are taken as they are (port 0 refused)",
    runs: 700,
    property: fc.property(hostName, fc.integer({ min: 0, max: 65535 }), (host, port) => {
      const r = outcome(() => parseSshTarget({ host, port }), [TransportUrlError]);
      assert.equal(r.ok, port > 0);
      if (r.ok) assert.deepEqual([r.value.scheme, r.value.host, r.value.port], ["tcp", host, port]);
    }),
  },
];

fuzzTests(cases);
