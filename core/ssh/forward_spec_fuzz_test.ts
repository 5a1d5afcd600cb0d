// Property-based fuzzing of OpenSSH forward specs (`-L`/`-R`
// `[bind:]port:host:hostport`): hostile and mutated text, format -> parse
// round trips, and parse -> format -> parse idempotence.
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
import { ForwardSpecError } from "../transport/hostport.ts";
import { type ForwardSpec, parseForwardSpec } from "./forward_spec.ts";

function format(f: ForwardSpec): string {
  const bind = f.bindHost === undefined ? "" : `${bracketed(f.bindHost)}:`;
  return `${bind}${f.bindPort}:${bracketed(f.host)}:${f.hostPort}`;
}

function check(text: string, allowZeroBindPort: boolean) {
  const r = outcome(() => parseForwardSpec(text, { allowZeroBindPort }), [ForwardSpecError]);
  if (!r.ok) return r.error;
  const f = r.value;
  assert.ok(f.host.length > 0 && (f.bindHost === undefined || f.bindHost.length > 0));
  assert.ok(f.bindPort >= (allowZeroBindPort ? 0 : 1) && f.bindPort <= 65535);
  assert.ok(f.hostPort >= 1 && f.hostPort <= 65535);
  assert.deepEqual(parseForwardSpec(format(f), { allowZeroBindPort }), f);
  return f;
}

const spec: fc.Arbitrary<ForwardSpec> = fc.record({
  bindHost: fc.option(hostName, { nil: undefined }),
  bindPort: fc.integer({ min: 0, max: 65535 }),
  host: hostName,
  hostPort: fc.integer({ min: 1, max: 65535 }),
}).map((f) => ({ ...f }));

export const cases: FuzzCase[] = [
  {
    name:
      "forward spec: raw and mutated text give a spec (which formats and reparses equal) or ForwardSpecError",
    runs: 3500,
    property: fc.property(
      fc.oneof(rawText, mutatedText(spec.map(format)), fc.stringMatching(/^[\[\]:0-9a-z.]{0,20}$/)),
      fc.boolean(),
      (t, zero) => void check(t, zero),
    ),
  },
  {
    name: "forward spec: format -> parse round trip; bind port 0 only when allowed",
    runs: 2100,
    property: fc.property(spec, fc.boolean(), (f, zero) => {
      const r = check(format(f), zero);
      if (f.bindPort === 0 && !zero) assert.ok(r instanceof ForwardSpecError);
      else assert.deepEqual(r, f);
    }),
  },
];

fuzzTests(cases);
