import assert from "node:assert/strict";
import { main } from "../cli/config.ts";

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), env },
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-config-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("alknet config check: valid file prints the effective config, secrets redacted", async () => {
  await withDir(async (dir) => {
    const hash = `sha256:${"ab".repeat(32)}`;
    await Deno.writeTextFile(`${dir}/ak`, "# empty\nnot-an-option ssh-ed25519 AAAA\n");
    await Deno.writeTextFile(
      `${dir}/alknet.toml`,
      `[auth]\nauthorized_keys = "ak"\n[[auth.api_keys]]\nprefix = "alk_ab12cd34"\nhash = "${hash}"\n`,
    );
    const t = io({ ALKNET_MAX_SESSIONS_PER_IDENTITY: "4" });
    assert.equal(await main(["check", `${dir}/alknet.toml`], t.io), 0);
    const text = t.out.join("\n");
    assert.match(text, /max_sessions_per_identity = 4/);
    assert.match(text, new RegExp(`authorized_keys = "${dir}/ak"`));
    assert.ok(!text.includes(hash.slice(7)), "hash redacted");
    assert.deepEqual(t.err, [`warning: ${dir}/ak:2: unknown option 'not-an-option'; line skipped`]);
  });
});

Deno.test("alknet config check: invalid file exits 2 naming file, line and key", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/bad.toml`;
    await Deno.writeTextFile(
      file,
      `[server]\nlisten = ["127.0.0.1:1"]\n\n[limits]\npenalty_second = 3\n`,
    );
    const t = io();
    assert.equal(await main(["check", file], t.io), 2);
    assert.deepEqual(t.out, []);
    assert.match(t.err[0], new RegExp(`^error: ${file}:5: limits\\.penalty_second: unknown key`));
    assert.match(t.err.at(-1)!, /is invalid \(1 problem\)/);
  });
});

Deno.test("alknet config check: missing files and misuse exit 2", async () => {
  const t = io();
  assert.equal(await main(["check", "/nonexistent/alknet.toml"], t.io), 2);
  assert.match(t.err[0], /\/nonexistent\/alknet\.toml: \(file\): cannot read: no such file/);
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.toml`, `[auth]\nauthorized_keys = "missing_keys"\n`);
    const m = io();
    assert.equal(await main(["check", `${dir}/a.toml`], m.io), 2);
    assert.match(
      m.err[0],
      /auth\.authorized_keys: cannot read authorized_keys file .*missing_keys.*no such file/,
    );
  });
  for (const args of [[], ["frob"], ["check"], ["check", "a", "b"]]) {
    const u = io();
    assert.equal(await main(args, u.io), 2, args.join(" "));
    assert.ok(u.err.some((l) => l.startsWith("usage:")));
  }
  const h = io();
  assert.equal(await main(["--help"], h.io), 0);
});

Deno.test("alknet config check: runs as a command (exit status and stderr)", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/bad.toml`;
    await Deno.writeTextFile(file, `[forwarding]\ndefault = "sometimes"\n`);
    const cli = new URL("../cli.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "config", "check", file],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(out.code, 2);
    assert.match(
      new TextDecoder().decode(out.stderr),
      new RegExp(`${file}:2: forwarding\\.default: must be one of`),
    );
  });
});

Deno.test("alknet config check: the example in docs/decisions/auth-config-and-limits.md is valid", async () => {
  const note = await Deno.readTextFile(
    new URL("../docs/decisions/auth-config-and-limits.md", import.meta.url),
  );
  const example = /```toml\n([\s\S]*?)```/.exec(note)?.[1];
  assert.ok(example, "the note has a toml block");
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/alknet.toml`, example);
    await Deno.writeTextFile(`${dir}/authorized_keys`, "# none yet\n");
    const t = io();
    assert.equal(await main(["check", `${dir}/alknet.toml`], t.io), 0, t.err.join("\n"));
    assert.deepEqual(t.err, []);
    assert.match(t.out.join("\n"), /target = "\*\.example\.com:443"/);
  });
});
