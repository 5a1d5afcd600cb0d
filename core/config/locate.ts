/**
 * Finds the line of a key in TOML text, so configuration errors can name
 * `file:line`. smol-toml reports lines for syntax errors only; this scanner
 * maps key paths such as `limits.penalty_seconds` or
 * `forwarding.rules[2].target` to the line that sets them.
 *
 * @module
 */

function normalizeKey(raw: string): string {
  return raw.split(".").map((p) => p.trim().replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1"))
    .join(".");
}

/**
 * An index from key paths to 1-based line numbers.
 *
 * @example
 * ```ts
 * import { TomlLineIndex } from "@alknet/core/config";
 * const idx = new TomlLineIndex("[limits]\npenalty_seconds = 5\n");
 * console.log(idx.lineOf("limits.penalty_seconds")); // 2
 * ```
 */
export class TomlLineIndex {
  readonly #lines = new Map<string, number>();

  /** Scans `text`. Never throws. */
  constructor(text: string) {
    const counts = new Map<string, number>();
    let table = "";
    let multiline: string | null = null;
    let arrayPath: string | null = null;
    let depth = 0;
    let element = 0;
    const set = (path: string, line: number) => {
      if (!this.#lines.has(path)) this.#lines.set(path, line);
    };
    const lines = String(text).split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const n = i + 1;
      if (multiline) {
        if (line.includes(multiline)) multiline = null;
        continue;
      }
      if (arrayPath !== null) {
        // Inside a multi-line array: one inline table per element.
        for (const c of stripStrings(line)) {
          if (c === "[" || c === "{") {
            if (depth === 1 && c === "{") set(`${arrayPath}[${element++}]`, n);
            depth++;
          } else if (c === "]" || c === "}") depth--;
          else if (c === "#") break;
        }
        if (depth <= 0) arrayPath = null;
        continue;
      }
      let m = /^\s*\[\[\s*([^\]]+?)\s*\]\]/.exec(line);
      if (m) {
        const name = normalizeKey(m[1]);
        const idx = (counts.get(name) ?? -1) + 1;
        counts.set(name, idx);
        table = `${name}[${idx}]`;
        set(name, n);
        set(table, n);
        continue;
      }
      m = /^\s*\[\s*([^\]]+?)\s*\]/.exec(line);
      if (m) {
        table = normalizeKey(m[1]);
        set(table, n);
        continue;
      }
      m =
        /^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=(.*)$/
          .exec(line);
      if (!m) continue;
      const path = table ? `${table}.${normalizeKey(m[1])}` : normalizeKey(m[1]);
      set(path, n);
      const value = m[2];
      const triple = /"""|'''/.exec(value);
      if (triple && value.split(triple[0]).length === 2) {
        multiline = triple[0];
        continue;
      }
      const v = stripStrings(value);
      if (v.trimStart().startsWith("[")) {
        let d = 0;
        let el = 0;
        for (const c of v) {
          if (c === "#") break;
          if (c === "[" || c === "{") {
            if (d === 1 && c === "{") set(`${path}[${el++}]`, n);
            d++;
          } else if (c === "]" || c === "}") d--;
        }
        if (d > 0) {
          arrayPath = path;
          depth = d;
          element = el;
        }
      }
    }
  }

  /**
   * The line of `path`, or of its nearest listed ancestor
   * (`a.b[1].c` → `a.b[1]` → `a.b` → `a`), or undefined.
   */
  lineOf(path: string): number | undefined {
    let p = path;
    while (p !== "") {
      const hit = this.#lines.get(p);
      if (hit !== undefined) return hit;
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      if (cut <= 0) break;
      p = p.slice(0, cut);
    }
    return undefined;
  }
}

/** Replaces the contents of basic and literal strings with spaces. */
function stripStrings(s: string): string {
  let out = "";
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === "\\" && q === '"') {
        i++;
        out += "  ";
        continue;
      }
      if (c === q) q = null;
      out += " ";
    } else if (c === '"' || c === "'") {
      q = c;
      out += " ";
    } else {
      out += c;
    }
  }
  return out;
}
