// Property-based fuzzing of configuration validation below the TOML parser:
// layerFromToml on arbitrary documents, layerFromEnv on hostile ALKNET_*
// variables, and the key -> line index on arbitrary text. None may throw;
// every problem is reported with the key or variable at fault.
import assert from "node:assert/strict";
import { fc, type FuzzCase, fuzzTests, outcome, rawText } from "../../tests/fuzz_util.ts";
import { TomlLineIndex } from "./locate.ts";
import { mergeLayers } from "./schema.ts";
import { CONFIG_KEYS, layerFromToml } from "./toml_layer.ts";
import { ENV_VARS, layerFromEnv } from "./env_layer.ts";

// Every table and key of the schema (CONFIG_KEYS), and two that must stay inert.
const SECTIONS = [...new Set(CONFIG_KEYS.map((k) => k.split(".")[0]))];
const KEYS = [
  ...new Set(CONFIG_KEYS.map((k) => k.split(".").at(-1)!)),
  "__proto__",
  "constructor",
];

const leaf = fc.oneof(
  fc.anything({ maxDepth: 1 }),
  fc.bigInt(),
  fc.date(),
  fc.constantFrom(NaN, Infinity, -0, 2 ** 53, "", "text", "json", "allow", "deny", "*:443"),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie("v"), { maxKeys: 4 }),
  ),
})).v;

const doc = fc.dictionary(fc.constantFrom(...SECTIONS, "extra"), value, { maxKeys: 5 });

export const cases: FuzzCase[] = [
  {
    name: "config schema: layerFromToml on arbitrary documents reports problems, never throws",
    runs: 2800,
    property: fc.property(doc, (d) => {
      const reports: [string, string][] = [];
      const r = outcome(() => layerFromToml(d, (k, m) => reports.push([k, m])), []);
      assert.ok(r.ok);
      for (const [k, m] of reports) {
        assert.ok(typeof k === "string" && k.length > 0);
        assert.ok(typeof m === "string" && m.length > 0);
      }
      // Without problems the layer merges into a complete configuration.
      if (reports.length === 0) assert.ok(outcome(() => mergeLayers([r.value]), []).ok);
    }),
  },
  {
    name: "config schema: layerFromEnv on hostile ALKNET_* values names the variable, never throws",
    runs: 2800,
    property: fc.property(
      fc.dictionary(
        fc.constantFrom(...Object.keys(ENV_VARS), "ALKNET_OTHER", "PATH"),
        fc.oneof(
          rawText,
          fc.constantFrom("1", "0", "yes", "NO", "true", "-1", "1e3", " 5 ", "9".repeat(20), ""),
        ),
        { maxKeys: 6 },
      ),
      (env) => {
        const reports: string[] = [];
        const r = outcome(() => layerFromEnv(env, (k) => reports.push(k)), []);
        assert.ok(r.ok);
        for (const k of reports) assert.ok(k in ENV_VARS, k);
      },
    ),
  },
  {
    name: "config line index: arbitrary text never throws, lines stay in the file",
    runs: 2100,
    property: fc.property(
      fc.oneof(
        rawText,
        fc.array(fc.constantFrom("[a]", "[[b]]", "c = [", "{d=1}", "]", '"""', "e.f = 1", "#"), {
          maxLength: 20,
        }).map((l) => l.join("\n")),
      ),
      fc.constantFrom("a", "b[0]", "b[1].x", "c", "e.f", "limits.penalty_seconds", "x.y[2].z"),
      (text, key) => {
        const idx = outcome(() => new TomlLineIndex(text), []);
        assert.ok(idx.ok);
        const n = idx.value.lineOf(key);
        assert.ok(n === undefined || (n >= 1 && n <= text.split("\n").length));
      },
    ),
  },
];

fuzzTests(cases);
