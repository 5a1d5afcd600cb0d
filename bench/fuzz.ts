/**
 * Fuzz campaign: runs every property of every `*_fuzz_test.ts` (the same
 * properties CI runs a few thousand cases of) for many more cases, with a
 * fresh seed unless one is given. Prints the cases run per decoder and, for
 * any failure, the seed and path that replay it:
 *
 *   ALKNET_FUZZ_SEED=<seed> deno test -A <file>         (CI run count)
 *   deno run -A bench/fuzz.ts --seed <seed> --path <path> --only <name>
 *
 * Usage: deno run -A bench/fuzz.ts [--runs 200000] [--seed N] [--only TEXT] [--path P]
 *        [--max-seconds S]
 *
 * `--runs` is the number of cases per decoder (per fuzz file), shared among
 * its properties in proportion to their CI run counts. `--only` keeps the
 * decoders and properties whose file or name contains TEXT; `--path` (with
 * the seed of a failure) replays from its counterexample. `--max-seconds` caps the
 * time per decoder (shared like the runs); the cases actually run are printed.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { relative } from "node:path";
import { fc, type FuzzCase } from "../tests/fuzz_util.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "200000" },
    seed: { type: "string" },
    only: { type: "string" },
    path: { type: "string" },
    "max-seconds": { type: "string" },
  },
});
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs ${values.runs}: not a count`);
const SEED = values.seed !== undefined
  ? Number(values.seed)
  : (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
if (!Number.isInteger(SEED)) throw new Error(`--seed ${values.seed}: not an integer`);

const MAX_MS = values["max-seconds"] !== undefined
  ? Number(values["max-seconds"]) * 1000
  : undefined;
if (MAX_MS !== undefined && !(MAX_MS > 0)) throw new Error("--max-seconds: not a positive number");

const root = new URL("../", import.meta.url);

async function* fuzzFiles(dir: URL): AsyncGenerator<URL> {
  const entries = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.isDirectory && !["node_modules", "dist", ".git"].includes(e.name)) {
      yield* fuzzFiles(new URL(`${e.name}/`, dir));
    } else if (e.isFile && e.name.endsWith("_fuzz_test.ts")) {
      yield new URL(e.name, dir);
    }
  }
}

interface Row {
  decoder: string;
  property: string;
  runs: number;
  skipped: number;
  ms: number;
  failed: boolean;
}

const rows: Row[] = [];
const failures: string[] = [];
console.log(
  `fuzz campaign: seed ${SEED}, ${RUNS} cases per decoder${
    MAX_MS !== undefined ? `, at most ${MAX_MS / 1000} s each` : ""
  }`,
);

for (const dir of ["core/", "call/", "vault/"]) {
  for await (const file of fuzzFiles(new URL(dir, root))) {
    const decoder = relative(root.pathname, file.pathname).replace(/_fuzz_test\.ts$/, "");
    const mod = await import(file.href) as { cases?: FuzzCase[] };
    const cases = (mod.cases ?? []).filter((c) =>
      !values.only || decoder.includes(values.only) || c.name.includes(values.only)
    );
    const weight = cases.reduce((n, c) => n + c.runs, 0);
    for (const c of cases) {
      const numRuns = Math.max(1, Math.round(RUNS * c.runs / weight));
      const t0 = performance.now();
      const details = await fc.check(c.property, {
        seed: SEED,
        numRuns,
        endOnFailure: false,
        ...(values.path !== undefined ? { path: values.path } : {}),
        ...(MAX_MS !== undefined
          ? { interruptAfterTimeLimit: Math.max(1000, MAX_MS * c.runs / weight) }
          : {}),
      });
      const ms = performance.now() - t0;
      const row: Row = {
        decoder,
        property: c.name,
        runs: details.numRuns,
        skipped: details.numSkips,
        ms,
        failed: details.failed,
      };
      rows.push(row);
      const mark = details.failed ? "FAIL" : details.interrupted ? "time" : "ok  ";
      console.log(
        `${mark} ${decoder.padEnd(28)} ${String(details.numRuns).padStart(8)} cases ${
          (ms / 1000).toFixed(1).padStart(7)
        } s  ${c.name}`,
      );
      if (details.failed) {
        const report = fc.defaultReportMessage(details) ?? "failed";
        console.log(report.split("\n").map((l) => `     ${l.slice(0, 2000)}`).join("\n"));
        failures.push(
          `${decoder}: ${c.name}\n  replay: deno run -A bench/fuzz.ts --seed ${details.seed} --path ${
            JSON.stringify(details.counterexamplePath)
          } --only ${JSON.stringify(c.name)}\n${report}`,
        );
      }
    }
  }
}

const byDecoder = new Map<string, { runs: number; ms: number }>();
for (const r of rows) {
  const d = byDecoder.get(r.decoder) ?? { runs: 0, ms: 0 };
  d.runs += r.runs;
  d.ms += r.ms;
  byDecoder.set(r.decoder, d);
}
console.log("\ncases per decoder:");
for (const [decoder, d] of byDecoder) {
  console.log(
    `  ${decoder.padEnd(28)} ${String(d.runs).padStart(9)} cases ${
      (d.ms / 1000).toFixed(1).padStart(8)
    } s`,
  );
}
const total = rows.reduce((n, r) => n + r.runs, 0);
const secs = rows.reduce((n, r) => n + r.ms, 0) / 1000;
console.log(
  `total: ${total} cases over ${byDecoder.size} decoders in ${
    secs.toFixed(1)
  } s, seed ${SEED}, ${failures.length} failure(s)`,
);
if (failures.length) {
  console.log("\nFAILURES\n");
  for (const f of failures) console.log(f + "\n");
  Deno.exit(1);
}
