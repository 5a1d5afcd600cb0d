import assert from "node:assert/strict";
import { matchFrom, parseAuthorizedKeys, parseExpiryTime } from "./authorized_keys.ts";
import { b64, ed25519Key, prng, rsaKey } from "./fixtures_test.ts";

const K = ed25519Key(3);
const KEY = K.line("alice@laptop");

function parse(text: string) {
  const warnings: string[] = [];
  const entries = parseAuthorizedKeys(text, "ak", (m) => warnings.push(m));
  return { entries, warnings };
}

function one(line: string) {
  const { entries, warnings } = parse(line);
  assert.deepEqual(warnings, [], `unexpected warnings for ${line}`);
  assert.equal(entries.length, 1);
  return entries[0];
}

function skipped(line: string, why: RegExp) {
  const { entries, warnings } = parse(`# header\n\n${line}\n`);
  assert.equal(entries.length, 0, `line should be skipped: ${line}`);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^ak:3: /);
  assert.match(warnings[0], why);
}

Deno.test("authorized_keys: plain key, comment, default scope", () => {
  const e = one(KEY);
  assert.equal(e.key.type, "ssh-ed25519");
  assert.deepEqual(e.key.blob, K.blob);
  assert.equal(e.comment, "alice@laptop");
  assert.deepEqual(e.options.scopes, ["relay:connect"]);
  assert.equal(e.options.noPortForwarding, false);
  assert.equal(e.options.certAuthority, false);
  assert.equal(e.line, 1);
  assert.equal(e.source, "ak");
});

Deno.test("authorized_keys: blank lines, comments, CRLF, no comment", () => {
  const { entries, warnings } = parse(`# c\r\n\r\n   \n${KEY}\r\n  # indented\n${K.line("")}\n`);
  assert.deepEqual(warnings, []);
  assert.equal(entries.length, 2);
  assert.equal(entries[0].line, 4);
  assert.equal(entries[1].comment, "");
});

Deno.test("authorized_keys: key types other than ed25519", () => {
  const r = rsaKey();
  assert.equal(one(r.line()).key.type, "ssh-rsa");
});

Deno.test("authorized_keys: real ssh-keygen keys and fingerprints match ssh-keygen -l", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const t of ["ed25519", "ecdsa", "rsa"]) {
      const path = `${dir}/id_${t}`;
      const gen = await new Deno.Command("ssh-keygen", {
        args: ["-q", "-t", t, "-N", "", "-C", "c", "-f", path],
        stdout: "null",
        stderr: "null",
      }).output();
      assert.equal(gen.code, 0);
      const e = one(await Deno.readTextFile(`${path}.pub`));
      const fp = await new Deno.Command("ssh-keygen", { args: ["-lf", `${path}.pub`] }).output();
      assert.equal(new TextDecoder().decode(fp.stdout).split(" ")[1], e.key.fingerprint);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("authorized_keys: cert-authority and principals", () => {
  const e = one(`cert-authority,principals="alice,ops" ${KEY}`);
  assert.equal(e.options.certAuthority, true);
  assert.deepEqual(e.options.principals, ["alice", "ops"]);
});

Deno.test("authorized_keys: option names are case-insensitive", () => {
  const e = one(`Cert-Authority,NO-PORT-FORWARDING ${KEY}`);
  assert.equal(e.options.certAuthority, true);
  assert.equal(e.options.noPortForwarding, true);
});

Deno.test("authorized_keys: from= patterns parsed and matched", () => {
  const e = one(`from="10.0.0.0/8,!10.0.0.1,192.168.?.*,fd00::/8,::1" ${KEY}`);
  const from = e.options.from!;
  assert.equal(matchFrom(from, "10.1.2.3"), true);
  assert.equal(matchFrom(from, "10.0.0.1"), false, "negation wins");
  assert.equal(matchFrom(from, "192.168.5.77"), true);
  assert.equal(matchFrom(from, "192.168.55.77"), false, "? is one character");
  assert.equal(matchFrom(from, "fd12::3"), true);
  assert.equal(matchFrom(from, "::1"), true);
  assert.equal(matchFrom(from, "::ffff:10.9.9.9"), true, "v4-mapped counts as v4");
  assert.equal(matchFrom(from, "11.0.0.1"), false);
  assert.equal(matchFrom(from, "fe80::1"), false);
  assert.equal(matchFrom(["*"], "203.0.113.9"), true);
  assert.equal(matchFrom(["!203.0.113.9", "*"], "203.0.113.9"), false);
  assert.equal(matchFrom(["!203.0.113.9"], "198.51.100.1"), false, "only negatives never admit");
});

Deno.test("authorized_keys: from= with bad CIDR or characters is skipped", () => {
  skipped(`from="10.0.0.0/33" ${KEY}`, /from= pattern '10.0.0.0\/33'/);
  skipped(`from="a b" ${KEY}`, /unterminated|invalid|missing/);
  skipped(`from="ok,,x" ${KEY}`, /empty entry/);
  skipped(`from="$(rm)" ${KEY}`, /invalid characters/);
});

Deno.test("authorized_keys: expiry-time formats", () => {
  const utc = one(`expiry-time="20300102Z" ${KEY}`);
  assert.equal(utc.options.expiresAt, Date.UTC(2030, 0, 2));
  const full = one(`expiry-time="203001021314z" ${KEY}`);
  assert.equal(full.options.expiresAt, Date.UTC(2030, 0, 2, 13, 14));
  assert.equal(parseExpiryTime("20300102131415Z"), Date.UTC(2030, 0, 2, 13, 14, 15));
  assert.equal(parseExpiryTime("20300102"), new Date(2030, 0, 2).getTime());
  assert.equal(parseExpiryTime("20300230Z"), null, "Feb 30");
  assert.equal(parseExpiryTime("203001"), null);
  assert.equal(parseExpiryTime("2030010212"), null, "hour without minutes");
  skipped(`expiry-time="tomorrow" ${KEY}`, /expiry-time="tomorrow"/);
});

Deno.test("authorized_keys: no-port-forwarding, restrict and port-forwarding", () => {
  assert.equal(one(`no-port-forwarding ${KEY}`).options.noPortForwarding, true);
  assert.equal(one(`restrict ${KEY}`).options.noPortForwarding, true);
  assert.equal(one(`restrict,port-forwarding ${KEY}`).options.noPortForwarding, false);
  assert.equal(
    one(`no-pty,no-agent-forwarding,no-X11-forwarding,no-user-rc ${KEY}`).options.noPortForwarding,
    false,
  );
  skipped(`no-port-forwarding="yes" ${KEY}`, /takes no value/);
});

Deno.test("authorized_keys: permitopen repeatable, * port, IPv6 brackets", () => {
  const e = one(`permitopen="db:5432",permitopen="[::1]:22",permitopen="web:*" ${KEY}`);
  assert.deepEqual(e.options.permitOpen, ["db:5432", "[::1]:22", "web:*"]);
  skipped(`permitopen="db" ${KEY}`, /permitopen="db" is not host:port/);
  skipped(`permitopen="db:99999" ${KEY}`, /not host:port/);
  skipped(`permitopen="::1:22" ${KEY}`, /not host:port/);
  skipped(`permitopen=db:22 ${KEY}`, /must be double-quoted/);
});

Deno.test("authorized_keys: permitlisten with and without host", () => {
  const e = one(`permitlisten="8080",permitlisten="localhost:9000",permitlisten="[::1]:*" ${KEY}`);
  assert.deepEqual(e.options.permitListen, ["8080", "localhost:9000", "[::1]:*"]);
  skipped(`permitlisten="x:y" ${KEY}`, /permitlisten="x:y"/);
});

Deno.test("authorized_keys: alknet-scopes", () => {
  assert.deepEqual(one(`alknet-scopes="relay:connect,call:*" ${KEY}`).options.scopes, [
    "relay:connect",
    "call:*",
  ]);
  skipped(`alknet-scopes="a b" ${KEY}`, /invalid characters/);
  skipped(`alknet-scopes="" ${KEY}`, /empty entry/);
});

Deno.test("authorized_keys: quoted values with commas, spaces and escaped quotes", () => {
  const e = one(`principals="a\\"b,c d",from="*" ${KEY}`);
  assert.deepEqual(e.options.principals, ['a"b', "c d"]);
  assert.deepEqual(e.options.from, ["*"]);
});

Deno.test("authorized_keys: bad lines are skipped with file and line", () => {
  skipped(`command="/bin/sh" ${KEY}`, /unknown option 'command'/);
  skipped(`frobnicate ${KEY}`, /unknown option 'frobnicate'/);
  skipped(`principals="x ${KEY}`, /unterminated/);
  skipped(`principals ${KEY}`, /needs a value/);
  skipped(`principals="a",principals="b" ${KEY}`, /given twice/);
  skipped(`no-pty, ${KEY}`, /trailing ','|empty option/);
  skipped(`ssh-ed25519 !!!notbase64 c`, /base64/);
  skipped(`ssh-ed25519 ${b64(new Uint8Array([0, 0, 0, 11]))} c`, /malformed key blob/);
  skipped(`ssh-rsa ${b64(K.blob)} c`, /type mismatch/);
  skipped(`ssh-dss AAAAB3NzaC1kc3MAAACBAP c`, /unsupported key type 'ssh-dss'/);
  skipped(`sk-ssh-ed25519@openssh.com AAAA c`, /unsupported key type/);
  skipped(`ssh-ed25519`, /missing key type or key data/);
  skipped("x".repeat(40_000), /longer than/);
});

Deno.test("authorized_keys: good lines around bad lines survive", () => {
  const { entries, warnings } = parse(`${KEY}\nbogus ${KEY}\n${rsaKey().line()}\n`);
  assert.equal(entries.length, 2);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^ak:2: unknown option 'bogus'/);
});

Deno.test("authorized_keys: mutated lines never throw (bounded fuzz)", () => {
  const rand = prng(1234);
  const base = [
    `cert-authority,principals="a,b",from="10.0.0.0/8,!10.0.0.1",expiry-time="20300101Z" ${KEY}`,
    `permitopen="[::1]:22",permitlisten="8080",alknet-scopes="x,y",restrict ${KEY}`,
    rsaKey().line(),
  ];
  const alphabet = ' ",=\\!*?/:[]#\t\r\nAa0+\u0000\u00ff\ud800';
  let kept = 0;
  for (let i = 0; i < 3000; i++) {
    const chars = [...base[i % base.length]];
    const edits = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < edits; j++) {
      const pos = Math.floor(rand() * (chars.length + 1));
      const op = rand();
      const c = alphabet[Math.floor(rand() * alphabet.length)];
      if (op < 0.4) chars.splice(pos, 0, c);
      else if (op < 0.7) chars.splice(pos, 1);
      else chars[pos] = c;
    }
    const entries = parseAuthorizedKeys(chars.join(""), "fuzz", () => {});
    kept += entries.length;
    for (const e of entries) {
      matchFrom(e.options.from ?? [], "10.0.0.1");
      assert.ok(e.key.fingerprint.startsWith("SHA256:"));
    }
  }
  assert.ok(kept > 0, "some mutated lines stay valid");
});
