/**
 * Runs every `@example` of the packages (JSDoc code blocks in `core/`,
 * `call/`, `vault/`, `storage/`, `flowgraph/`, `cli/`, `mod.ts`, `cli.ts`)
 * as a test, in this one process: each block is written to a module of its
 * own and imported, so the packages load once for all examples instead of
 * once per example as `deno test --doc` does. Blocks run as a user would
 * paste them: no name is imported for them (a block must import what it
 * uses from `@alknet/...`), and a relative import fails. Type errors are
 * caught by `deno check --doc` (in `deno task test`), which checks the same
 * blocks; blocks marked `ignore` are skipped by both.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);
const SOURCES = ["core/", "call/", "vault/", "storage/", "flowgraph/", "cli/", "mod.ts", "cli.ts"];

/** One code block: where it is and its text. */
interface Block {
  name: string;
  code: string;
}

function* tsFiles(url: URL): Generator<URL> {
  if (!url.pathname.endsWith("/")) {
    yield url;
    return;
  }
  for (const e of [...Deno.readDirSync(url)].sort((a, b) => a.name < b.name ? -1 : 1)) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    if (e.isDirectory) yield* tsFiles(new URL(`${e.name}/`, url));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield new URL(e.name, url);
  }
}

/** The fenced `ts`/`js` blocks inside the file's JSDoc comments, as `deno test --doc` finds them. */
function blocksOf(url: URL): Block[] {
  const rel = url.pathname.slice(ROOT.pathname.length);
  const lines = Deno.readTextFileSync(url).split("\n");
  const out: Block[] = [];
  let inDoc = false;
  let code: string[] | null = null;
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!inDoc) {
      inDoc = /^\s*\/\*\*/.test(line) && !line.includes("*/");
      continue;
    }
    if (line.includes("*/")) {
      inDoc = false;
      code = null;
      continue;
    }
    const body = line.replace(/^\s*\* ?/, "");
    if (code === null) {
      const m = body.match(/^```(\w*)(.*)$/);
      if (m && /^(ts|typescript|js|javascript)$/.test(m[1]) && !/\bignore\b/.test(m[2])) {
        code = [];
        start = i + 2;
      }
    } else if (body.startsWith("```")) {
      out.push({ name: `${rel}:${start}`, code: code.join("\n") });
      code = null;
    } else code.push(body);
  }
  return out;
}

const dir = Deno.makeTempDirSync({ prefix: "alknet-examples-" });
const blocks = SOURCES.flatMap((s) => [...tsFiles(new URL(s, ROOT))].flatMap(blocksOf));
blocks.forEach((block, i) => {
  const file = `${dir}/example_${i}.ts`;
  Deno.writeTextFileSync(file, `${block.code}\nexport {};\n`);
  Deno.test(`example ${block.name}`, async () => {
    await import(`file://${file}`);
  });
});
Deno.test("examples: every block ran (temporary modules removed)", () => {
  Deno.removeSync(dir, { recursive: true });
});
