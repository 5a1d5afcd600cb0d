import assert from "node:assert/strict";
import { SshReader, SshWireError, SshWriter } from "./ssh_wire.ts";
import { prng } from "./fixtures_test.ts";

Deno.test("ssh_wire: round trip of every type", () => {
  const bytes = new SshWriter()
    .writeByte(7)
    .writeBoolean(true)
    .writeUint32(0xdeadbeef)
    .writeUint64(0xffffffffffffffffn)
    .writeString("héllo")
    .writeString(new Uint8Array([1, 2, 3]))
    .writeMpint(new Uint8Array([0x80, 1]))
    .writeMpint(new Uint8Array([0, 0, 5]))
    .writeMpint(new Uint8Array([]))
    .writeNameList(["a", "b,c".split(",")[0]])
    .writeNameList([])
    .toBytes();
  const r = new SshReader(bytes);
  assert.equal(r.readByte(), 7);
  assert.equal(r.readBoolean(), true);
  assert.equal(r.readUint32(), 0xdeadbeef);
  assert.equal(r.readUint64(), 0xffffffffffffffffn);
  assert.equal(r.readStringUtf8(), "héllo");
  assert.deepEqual(r.readString(), new Uint8Array([1, 2, 3]));
  assert.deepEqual(r.readMpint(), new Uint8Array([0x80, 1]));
  assert.deepEqual(r.readMpint(), new Uint8Array([5]));
  assert.deepEqual(r.readMpint(), new Uint8Array([]));
  assert.deepEqual(r.readNameList(), ["a", "b"]);
  assert.deepEqual(r.readNameList(), []);
  assert.equal(r.atEnd(), true);
  assert.equal(r.remaining, 0);
});

Deno.test("ssh_wire: mpint encoding pads a set high bit (RFC 4251)", () => {
  assert.deepEqual(
    new SshWriter().writeMpint(new Uint8Array([0x80])).toBytes(),
    Uint8Array.of(0, 0, 0, 2, 0, 0x80),
  );
  assert.deepEqual(
    new SshWriter().writeMpint(new Uint8Array([0, 0x7f])).toBytes(),
    Uint8Array.of(0, 0, 0, 1, 0x7f),
  );
});

Deno.test("ssh_wire: truncation and bad data throw SshWireError", () => {
  const cases: [Uint8Array, (r: SshReader) => unknown, RegExp][] = [
    [new Uint8Array(3), (r) => r.readUint32(), /truncated uint32/],
    [Uint8Array.of(0, 0, 0, 5, 1), (r) => r.readString(), /truncated string body: need 5/],
    [Uint8Array.of(0xff, 0xff, 0xff, 0xff), (r) => r.readString(), /truncated string body/],
    [Uint8Array.of(0, 0, 0, 1, 0xff), (r) => r.readStringUtf8(), /not valid UTF-8/],
    [Uint8Array.of(0, 0, 0, 1, 0x80), (r) => r.readMpint(), /negative mpint/],
    [new Uint8Array(0), (r) => r.readByte(), /truncated byte/],
    [new Uint8Array(7), (r) => r.readUint64(), /truncated uint32/],
  ];
  for (const [bytes, read, why] of cases) {
    assert.throws(
      () => read(new SshReader(bytes)),
      (e: unknown) => e instanceof SshWireError && why.test(e.message),
    );
  }
  assert.throws(() => new SshWriter().writeUint32(-1), SshWireError);
  assert.throws(() => new SshWriter().writeUint32(2 ** 32), SshWireError);
  assert.throws(() => new SshWriter().writeUint64(-1n), SshWireError);
});

Deno.test("ssh_wire: random bytes only ever raise SshWireError", () => {
  const rand = prng(5);
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from(
      { length: Math.floor(rand() * 24) },
      () => Math.floor(rand() * 256),
    );
    const r = new SshReader(bytes);
    try {
      for (let j = 0; j < 8; j++) {
        const op = Math.floor(rand() * 5);
        if (op === 0) r.readString();
        else if (op === 1) r.readUint32();
        else if (op === 2) r.readMpint();
        else if (op === 3) r.readNameList();
        else r.readUint64();
      }
    } catch (e) {
      assert.ok(e instanceof SshWireError, String(e));
    }
  }
});
