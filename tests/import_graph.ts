/**
 * The repository's import graph, for `layers_test.ts`: every `.ts` file's
 * static imports and re-exports (`import ... from "x"`, `import "x"`,
 * `export ... from "x"`, type-only ones included) and `import("x")` with a
 * literal specifier, resolved to files: relative paths, and the workspace's
 * `@alknet/*` names through each package's `deno.json` `exports`. Other
 * specifiers (npm:, jsr:, node:, bare npm names) are outside the graph.
 *
 * Imports are found by a small lexer, so text in comments (doc-comment
 * examples), string literals, template literals and regular expressions never
 * counts as an import.
 *
 * @module
 */

import { dirname, join, normalize, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A lexical token: an identifier or keyword, a string literal's value, or one punctuation character. */
type Token =
  | { kind: "word"; text: string }
  | { kind: "string"; text: string }
  | { kind: "punct"; text: string };

const WORD_START = /[A-Za-z_$]/;
const WORD_PART = /[A-Za-z0-9_$]/;
/** Words after which a `/` starts a regular expression, not a division. */
const REGEX_AFTER_WORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);
/** Punctuation after which a `/` is a division (an operand just ended). */
const DIVISION_AFTER_PUNCT = new Set([")", "]", "}"]);

/**
 * Splits TypeScript source into tokens, dropping comments, template
 * literals (their `${...}` expressions are tokenized) and regular expressions.
 */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  // Brace depth of each open template literal's `${` expression.
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  const n = src.length;
  const prevAllowsRegex = (): boolean => {
    const p = out[out.length - 1];
    if (!p) return true;
    if (p.kind === "string") return false;
    if (p.kind === "word") return REGEX_AFTER_WORDS.has(p.text);
    return !DIVISION_AFTER_PUNCT.has(p.text);
  };
  const skipTemplate = (): void => {
    // i is just after a backtick or a closing `}` of an expression.
    while (i < n) {
      const c = src[i];
      if (c === "\\") {
        i += 2;
      } else if (c === "`") {
        i++;
        // The template is an operand: a following `/` divides.
        out.push({ kind: "punct", text: ")" });
        return;
      } else if (c === "$" && src[i + 1] === "{") {
        i += 2;
        templates.push(depth);
        depth++;
        out.push({ kind: "punct", text: "(" });
        return;
      } else {
        i++;
      }
    }
  };
  while (i < n) {
    const c = src[i];
    if (c === "/" && src[i + 1] === "/") {
      while (i < n && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let text = "";
      while (j < n && src[j] !== c && src[j] !== "\n") {
        if (src[j] === "\\") {
          text += src[j + 1] ?? "";
          j += 2;
        } else {
          text += src[j++];
        }
      }
      out.push({ kind: "string", text });
      i = j + 1;
    } else if (c === "`") {
      i++;
      skipTemplate();
    } else if (c === "/" && prevAllowsRegex()) {
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== "\n") {
        const d = src[j];
        if (d === "\\") j += 2;
        else if (d === "[") (inClass = true, j++);
        else if (d === "]") (inClass = false, j++);
        else if (d === "/" && !inClass) break;
        else j++;
      }
      j++;
      while (j < n && WORD_PART.test(src[j])) j++; // flags
      out.push({ kind: "punct", text: ")" });
      i = j;
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < n && WORD_PART.test(src[j])) j++;
      out.push({ kind: "word", text: src.slice(i, j) });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(src[j])) j++;
      out.push({ kind: "word", text: src.slice(i, j) });
      i = j;
    } else {
      if (c === "{") depth++;
      else if (c === "}") {
        depth--;
        if (templates.length > 0 && templates[templates.length - 1] === depth) {
          templates.pop();
          i++;
          out.push({ kind: "punct", text: ")" });
          skipTemplate();
          continue;
        }
      }
      out.push({ kind: "punct", text: c });
      i++;
    }
  }
  return out;
}

/** The import specifiers of one file, as written. */
export function importSpecifiers(src: string): string[] {
  const t = tokenize(src);
  const specs: string[] = [];
  for (let k = 0; k < t.length; k++) {
    const a = t[k];
    const b = t[k + 1];
    const prevDot = t[k - 1]?.kind === "punct" && t[k - 1].text === ".";
    if (a.kind !== "word" || !b || prevDot) continue;
    // import ... from "x" / export ... from "x"
    if (a.text === "from" && b.kind === "string") specs.push(b.text);
    // import "x"
    else if (a.text === "import" && b.kind === "string") specs.push(b.text);
    // import("x")
    else if (
      a.text === "import" && b.kind === "punct" && b.text === "(" && t[k + 2]?.kind === "string" &&
      t[k + 3]?.kind === "punct" && (t[k + 3].text === ")" || t[k + 3].text === ",")
    ) specs.push(t[k + 2].text);
  }
  return specs;
}

/** The workspace's `@alknet/*` export names, mapped to files (absolute paths). */
export async function workspaceExports(root: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  const rootConfig = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const dirs = [".", ...(rootConfig.workspace ?? [])];
  for (const dir of dirs) {
    const config = JSON.parse(await Deno.readTextFile(join(root, dir, "deno.json")));
    if (typeof config.name !== "string") continue;
    const exports: Record<string, string> = typeof config.exports === "string"
      ? { ".": config.exports }
      : config.exports ?? {};
    for (const [sub, file] of Object.entries(exports)) {
      const name = sub === "." ? config.name : `${config.name}/${sub.replace(/^\.\//, "")}`;
      map.set(name, resolve(root, dir, file));
    }
  }
  return map;
}

/** Every `.ts` file under `root`, outside `node_modules`, `dist` and dot directories. */
export async function sourceFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith(".") || e.name === "node_modules" || e.name === "dist") continue;
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
    }
  };
  await walk(root);
  return out.sort();
}

/** An edge of the graph: `from` imports `to` (both relative to the root) as `spec`. */
export interface ImportEdge {
  from: string;
  to: string;
  spec: string;
}

/** The repository's import graph: files relative to `root`, edges between them. */
export async function importGraph(
  root: string,
): Promise<{ files: string[]; edges: ImportEdge[]; unresolved: ImportEdge[] }> {
  const names = await workspaceExports(root);
  const files = await sourceFiles(root);
  const edges: ImportEdge[] = [];
  const unresolved: ImportEdge[] = [];
  const rel = (p: string) => relative(root, p);
  for (const file of files) {
    const src = await Deno.readTextFile(file);
    for (const spec of importSpecifiers(src)) {
      let target: string;
      if (spec.startsWith("./") || spec.startsWith("../")) {
        target = normalize(resolve(dirname(file), spec));
      } else if (spec.startsWith("file:")) {
        target = fileURLToPath(spec);
      } else if (spec.startsWith("@alknet/")) {
        const named = names.get(spec);
        if (!named) {
          unresolved.push({ from: rel(file), to: "", spec });
          continue;
        }
        target = named;
      } else {
        continue; // npm:, jsr:, node:, bare npm names: outside the graph
      }
      if (!target.startsWith(root + "/")) continue; // outside the repository (e.g. /tmp)
      edges.push({ from: rel(file), to: rel(target), spec });
    }
  }
  return { files: files.map(rel), edges, unresolved };
}

/** Every elementary cycle's representative: one cycle per strongly connected component. */
export function findCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, []);
    next.get(e.from)!.push(e.to);
  }
  // Tarjan's strongly connected components (iterative).
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  for (const start of next.keys()) {
    if (idx.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    idx.set(start, index);
    low.set(start, index++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const outs = next.get(top.node) ?? [];
      if (top.i < outs.length) {
        const w = outs[top.i++];
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.node, Math.min(low.get(top.node)!, idx.get(w)!));
        }
      } else {
        work.pop();
        if (work.length > 0) {
          const parent = work[work.length - 1].node;
          low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
        }
        if (low.get(top.node) === idx.get(top.node)) {
          const scc: string[] = [];
          let w: string;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            scc.push(w);
          } while (w !== top.node);
          const selfLoop = (next.get(top.node) ?? []).includes(top.node);
          if (scc.length > 1 || selfLoop) sccs.push(scc);
        }
      }
    }
  }
  // One concrete cycle per component: a shortest path back to its first node.
  return sccs.map((scc) => {
    const inScc = new Set(scc);
    const first = [...scc].sort()[0];
    const prev = new Map<string, string>();
    const queue = [first];
    const seen = new Set([first]);
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of next.get(v) ?? []) {
        if (!inScc.has(w)) continue;
        if (w === first) {
          const path = [v];
          while (path[0] !== first) path.unshift(prev.get(path[0])!);
          return [...path, first];
        }
        if (!seen.has(w)) {
          seen.add(w);
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    return [first, first];
  });
}

/** The order of core's layers: a file may import its own layer and the ones before it. */
export const CORE_LAYERS = ["util", "transport", "auth", "ssh", "node", "config"] as const;

/** Where a file sits: a package, and for `core/` its layer (`mod` for `core/mod.ts`). */
export function placeOf(file: string): { pkg: string; layer?: string } {
  const parts = file.split("/");
  const top = parts[0];
  if (parts.length === 1) return { pkg: "root" };
  if (top === "core") {
    return parts.length === 2 ? { pkg: "core", layer: "mod" } : { pkg: "core", layer: parts[1] };
  }
  return { pkg: top };
}

const ISOLATED = new Set(["vault", "flowgraph", "storage"]);
const CALL_MAY_USE = new Set(["transport", "auth", "ssh"]);
const OURS = new Set(["core", "call", "vault", "storage", "flowgraph", "cli", "root"]);

/** Why an edge breaks the layering, or `undefined` when it is fine. */
export function layerViolation(e: ImportEdge): string | undefined {
  if (!e.to.endsWith(".ts")) return undefined; // data (deno.json, JSON fixtures), not code
  const a = placeOf(e.from);
  const b = placeOf(e.to);
  if (a.pkg === b.pkg && a.pkg !== "core") return undefined;
  if (ISOLATED.has(a.pkg) && OURS.has(b.pkg) && b.pkg !== a.pkg) {
    return `${a.pkg}/ imports nothing of ours, but imports ${b.pkg}`;
  }
  if (a.pkg === "core") {
    if (b.pkg !== "core") {
      return OURS.has(b.pkg)
        ? `core/ imports nothing of ours outside core, but imports ${b.pkg}`
        : undefined;
    }
    if (a.layer === "mod") return undefined;
    const from = CORE_LAYERS.indexOf(a.layer as typeof CORE_LAYERS[number]);
    const to = b.layer === "mod" ? CORE_LAYERS.length : CORE_LAYERS.indexOf(
      b.layer as typeof CORE_LAYERS[number],
    );
    if (from < 0) return `core/${a.layer}/ is not a known layer (${CORE_LAYERS.join(" ← ")})`;
    if (to < 0) return `core/${b.layer}/ is not a known layer (${CORE_LAYERS.join(" ← ")})`;
    if (to > from) {
      return `core/${a.layer} points up the layer order (${CORE_LAYERS.join(" ← ")}) to ${
        b.layer === "mod" ? "core/mod.ts" : `core/${b.layer}`
      }`;
    }
    return undefined;
  }
  if (a.pkg === "call" && b.pkg === "core" && !CALL_MAY_USE.has(b.layer ?? "")) {
    return `call/ may use core's transport, auth and ssh layers only, but imports ${
      b.layer === "mod" ? "core/mod.ts (@alknet/core)" : `core/${b.layer}`
    }`;
  }
  return undefined;
}
