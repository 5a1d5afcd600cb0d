// Every configuration key is documented: docs/reference/configuration.md has a
// row for each key of CONFIG_KEYS (and none that is not one), names every
// ALKNET_* variable, gives the limits' real defaults; the README links it and
// its TOML example is a valid configuration.
import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { CONFIG_KEYS, ENV_VARS, layerFromToml } from "@alknet/core/config";
import { DEFAULT_LIMITS, LISTENER_LIMITS } from "@alknet/core/transport";
import { ROOT } from "./helpers.ts";

const PAGE = "docs/reference/configuration.md";
const page = await Deno.readTextFile(`${ROOT}${PAGE}`);

/** `section.key` → the cells of its table row, from "## `[section]`" headings and their tables. */
function documentedKeys(md: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  let section: string | undefined;
  for (const line of md.split("\n")) {
    const heading = /^## `\[([a-z_]+)\]`/.exec(line);
    if (heading) section = heading[1];
    else if (line.startsWith("## ")) section = undefined;
    const row = /^\|\s*`([a-z_[\].]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (section && row) {
      const key = `${section}.${row[1]}`;
      assert.ok(!rows.has(key), `${key} is documented twice`);
      rows.set(key, row[2].split("|").map((c) => c.trim()));
    }
  }
  return rows;
}

Deno.test("config docs: every key of the schema has a row, and every row is a key", () => {
  const documented = documentedKeys(page);
  const missing = CONFIG_KEYS.filter((k) => !documented.has(k));
  const stale = [...documented.keys()].filter((k) => !CONFIG_KEYS.includes(k));
  assert.deepEqual(missing, [], `${PAGE} does not document: ${missing.join(", ")}`);
  assert.deepEqual(
    stale,
    [],
    `${PAGE} documents keys the schema does not have: ${stale.join(", ")}`,
  );
  assert.ok(
    CONFIG_KEYS.includes("ssh.banner") && CONFIG_KEYS.includes("limits.http_header_timeout_s"),
  );
});

Deno.test("config docs: every ALKNET_* variable is named (limits by the stated rule)", () => {
  assert.match(page, /`ALKNET_` \+ the key in capitals/);
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const [section, key] = path.split(".");
    const byRule = section === "limits" && name === `ALKNET_${key.toUpperCase()}`;
    assert.ok(page.includes(`\`${name}\``) || byRule, `${name} (${path}) is not in ${PAGE}`);
  }
});

Deno.test("config docs: the limits' defaults are the real ones", () => {
  const documented = documentedKeys(page);
  const camel = (k: string) => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const real: Record<string, number> = { ...LISTENER_LIMITS, ...DEFAULT_LIMITS };
  for (const key of CONFIG_KEYS.filter((k) => k.startsWith("limits."))) {
    const name = camel(key.slice("limits.".length));
    assert.equal(documented.get(key)?.[0], String(real[name]), `${key} (${name})`);
  }
});

Deno.test("config docs: the README links the page, and its example is a valid configuration", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf("## Configuration, reload and limits");
  assert.ok(start >= 0);
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  assert.ok(section.includes(`(${PAGE})`), "the README's configuration section links the page");
  const toml = /```toml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(toml, "the section has a TOML example");
  const problems: string[] = [];
  layerFromToml(parseToml(toml) as Record<string, unknown>, (k, m) => problems.push(`${k}: ${m}`));
  assert.deepEqual(problems, []);
});
