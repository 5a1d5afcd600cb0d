// Property-based fuzzing of iroh:// URLs: hostile and mutated text, and
// format -> parse round trips.
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
import { TransportUrlError } from "./errors.ts";
import { type IrohUrl, parseIrohUrl } from "./iroh_url.ts";

function format(u: IrohUrl): string {
  const addr = u.host === undefined ? "" : `${bracketed(u.host)}:${u.port}`;
  const at = u.nodeId !== undefined && addr !== "" ? "@" : "";
  return `iroh://${u.nodeId ?? ""}${at}${addr}${u.relay ? "" : "?relay=off"}`;
}

function check(text: string) {
  const r = outcome(() => parseIrohUrl(text), [TransportUrlError]);
  if (!r.ok) return r.error;
  const u = r.value;
  assert.equal(typeof u.relay, "boolean");
  if (u.nodeId !== undefined) assert.match(u.nodeId, /^[0-9a-zA-Z]{52,64}$/);
  assert.equal(u.host === undefined, u.port === undefined);
  assert.deepEqual(parseIrohUrl(format(u)), u);
  return u;
}

const irohUrl: fc.Arbitrary<IrohUrl> = fc.record({
  nodeId: fc.option(fc.stringMatching(/^[0-9a-z]{52,64}$/), { nil: undefined }),
  addr: fc.option(fc.tuple(hostName, fc.integer({ min: 0, max: 65535 })), { nil: undefined }),
  relay: fc.boolean(),
}).map(({ nodeId, addr, relay }) => {
  const u: IrohUrl = { relay };
  if (nodeId !== undefined) u.nodeId = nodeId;
  if (addr) [u.host, u.port] = addr;
  return u;
});

export const cases: FuzzCase[] = [
  {
    name:
      "iroh URL: raw and mutated text give a URL (which formats and reparses equal) or TransportUrlError",
    runs: 2800,
    property: fc.property(
      fc.oneof(rawText, mutatedText(irohUrl.map(format)), rawText.map((t) => `iroh://${t}`)),
      (t) => void check(t),
    ),
  },
  {
    name: "iroh URL: format -> parse round trip",
    runs: 1400,
    property: fc.property(irohUrl, (u) => assert.deepEqual(check(format(u)), u)),
  },
];

fuzzTests(cases);
