import assert from "node:assert/strict";
import {
  encodeExtInfo,
  replaceServerSigAlgs,
  SERVER_SIG_ALGS,
  sshBannerIdent,
} from "./server_ext_info.ts";
import { OptionError } from "../util/errors.ts";

Deno.test("EXT_INFO payload: RFC 8308 layout, our server-sig-algs has no SHA-1 or DSA", () => {
  const p = encodeExtInfo([["server-sig-algs", SERVER_SIG_ALGS.join(",")]]);
  const view = new DataView(p.buffer);
  assert.equal(p[0], 7);
  assert.equal(view.getUint32(1), 1);
  assert.equal(view.getUint32(5), 15);
  assert.equal(new TextDecoder().decode(p.subarray(9, 24)), "server-sig-algs");
  const len = view.getUint32(24);
  const value = new TextDecoder().decode(p.subarray(28, 28 + len));
  assert.equal(28 + len, p.length);
  assert.deepEqual(value.split(","), [...SERVER_SIG_ALGS]);
  assert.ok(value.split(",").every((a) => /^[a-z0-9-]+$/.test(a)));
  assert.doesNotMatch(value, /ssh-rsa|ssh-dss|sha1/);
});

Deno.test("replaceServerSigAlgs swaps only an outgoing EXT_INFO during the handshake's completion", () => {
  assert.equal(replaceServerSigAlgs({}), false);
  assert.equal(replaceServerSigAlgs(null), false);
  // A stand-in with ssh2's shape: alloc/finalize with the payload at allocStart.
  const sent: Uint8Array[] = [];
  const writer = {
    allocStart: 5,
    alloc: (n: number) => new Uint8Array(5 + n),
    finalize: (packet: Uint8Array) => packet,
  };
  const proto = {
    _packetRW: { write: writer },
    _onHandshakeComplete() {
      const ext = writer.alloc(4);
      ext.set([7, 0, 0, 9], 5);
      sent.push(writer.finalize(ext));
      const other = writer.alloc(1);
      other[5] = 94;
      sent.push(writer.finalize(other));
    },
  };
  assert.equal(replaceServerSigAlgs(proto, ["ssh-ed25519"]), true);
  proto._onHandshakeComplete();
  assert.deepEqual(sent[0].subarray(5), encodeExtInfo([["server-sig-algs", "ssh-ed25519"]]));
  assert.equal(sent[1][5], 94, "other packets pass unchanged");
  assert.equal(Object.hasOwn(writer, "finalize"), true);
  assert.equal(
    writer.finalize(new Uint8Array([0, 0, 0, 0, 0, 7])).length,
    6,
    "restored afterwards",
  );
});

Deno.test("ssh.banner: RFC 4253 identification checks name the option", () => {
  assert.equal(sshBannerIdent("OpenSSH_9.9"), "OpenSSH_9.9");
  assert.equal(sshBannerIdent("SSH-2.0-alknet_1 comment here"), "alknet_1 comment here");
  for (const bad of ["", " x", "has-dash", "tab\there", "é", "x".repeat(250), "ok \u0001"]) {
    assert.throws(
      () => sshBannerIdent(bad, "ssh.banner"),
      (e) => e instanceof OptionError && e.option === "ssh.banner",
      JSON.stringify(bad),
    );
  }
});
