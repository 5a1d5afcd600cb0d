// Checks the shipped fail2ban filter against log lines produced by alknet's
// own Logger, with the real fail2ban-regex (Debian package fail2ban).
import assert from "node:assert/strict";
import { Logger } from "../core/util/log.ts";

const FILTER = new URL("../docs/fail2ban/alknet.conf", import.meta.url).pathname;
const SAMPLE = new URL("../docs/fail2ban/sample.log", import.meta.url).pathname;

async function fail2banRegex(logPath: string): Promise<string[]> {
  const out = await new Deno.Command("fail2ban-regex", {
    args: ["--print-all-matched", "--raw", logPath, FILTER],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr) + text);
  const m = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched/.exec(text);
  assert.ok(m, text);
  const section = text.split("|- Matched line(s):")[1]?.split("`-")[0] ?? "";
  return section.split("\n").map((l) => l.replace(/^\|\s+/, "").trim()).filter((l) => l !== "");
}

function lines(format: "text" | "json"): { matched: string[]; missed: string[] } {
  const matched: string[] = [];
  const missed: string[] = [];
  let sink = matched;
  const log = new Logger(format, (l) => sink.push(l));
  const hit = (fn: () => void) => {
    sink = matched;
    fn();
  };
  const miss = (fn: () => void) => {
    sink = missed;
    fn();
  };
  hit(() =>
    log.event("auth", {
      result: "reject",
      remote: "192.0.2.10:5555",
      user: "bob",
      fp: "SHA256:abc",
      method: "publickey",
      reason: "key not in authorized_keys",
    })
  );
  hit(() =>
    log.event("auth", {
      result: "reject",
      remote: "[2001:db8::10]:22",
      user: "root",
      method: "password",
    })
  );
  hit(() =>
    log.event("auth", {
      result: "reject",
      remote: "192.0.2.11:1",
      user: 'x remote=203.0.113.66:1 "}',
      method: "publickey",
    })
  );
  hit(() =>
    log.event("conn rejected", { remote: "192.0.2.12:7", transport: "tcp", reason: "penalty" })
  );
  hit(() =>
    log.event("conn rejected", {
      remote: "192.0.2.13:7",
      transport: "tls",
      reason: "too-many-auth-failures",
    })
  );
  miss(() =>
    log.event("conn rejected", { remote: "192.0.2.14:7", transport: "tcp", reason: "not-ssh" })
  );
  miss(() =>
    log.event("auth", {
      result: "accept",
      remote: "192.0.2.15:7",
      user: "a",
      fp: "SHA256:x",
      method: "cert",
    })
  );
  miss(() => log.event("conn opened", { remote: "192.0.2.16:7", transport: "tcp" }));
  return { matched, missed };
}

for (const format of ["text", "json"] as const) {
  Deno.test(`fail2ban filter matches alknet ${format} reject lines and nothing else`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "alknet-f2b-" });
    try {
      const { matched, missed } = lines(format);
      await Deno.writeTextFile(`${dir}/alknet.log`, [...matched, ...missed].join("\n") + "\n");
      const got = await fail2banRegex(`${dir}/alknet.log`);
      assert.deepEqual(got, matched);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("fail2ban filter: shipped sample log", async () => {
  const got = await fail2banRegex(SAMPLE);
  assert.equal(got.length, 8);
  assert.ok(got.every((l) => !l.includes("result=accept") && !l.includes("not-ssh")));
});

Deno.test("fail2ban filter: the address comes from remote=, never from user=", async () => {
  const dir = await Deno.makeTempDir({ prefix: "alknet-f2b-" });
  try {
    const l: string[] = [];
    new Logger("text", (x) => l.push(x)).event("auth", {
      result: "reject",
      remote: "192.0.2.50:1",
      user: "a remote=203.0.113.9:2",
      method: "publickey",
    });
    await Deno.writeTextFile(`${dir}/a.log`, l.join("\n") + "\n");
    const out = await new Deno.Command("fail2ban-regex", {
      args: ["-v", `${dir}/a.log`, FILTER],
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    // fail2ban-regex -v lists each hit as "|      <address>  <date>".
    assert.match(text, /^\|\s+192\.0\.2\.50\s+\S/m);
    assert.doesNotMatch(text, /^\|\s+203\.0\.113\.9\s/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
