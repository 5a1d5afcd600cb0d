// Property-based fuzzing of the SSH wire reader every key, certificate and
// signature decoder is built on: random reads over hostile bytes stay in
// bounds or throw SshWireError, and writer -> reader round trips.
import assert from "node:assert/strict";
import {
  EXTREME_U32,
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedBytes,
  outcome,
  rawBytes,
} from "../../tests/fuzz_util.ts";
import { SshReader, SshWireError, SshWriter } from "./ssh_wire.ts";

type Op = "byte" | "bool" | "u32" | "u64" | "bytes" | "string" | "utf8" | "mpint" | "names";

const ops = fc.array(
  fc.constantFrom<Op>("byte", "bool", "u32", "u64", "bytes", "string", "utf8", "mpint", "names"),
  { minLength: 1, maxLength: 12 },
);

/** Runs reads until the first SshWireError; offsets only grow and stay inside the buffer. */
function readAll(buf: Uint8Array, seq: Op[], n: number): void {
  const r = new SshReader(buf);
  for (const op of seq) {
    const before = r.offset;
    const res = outcome((): unknown => {
      switch (op) {
        case "byte":
          return r.readByte();
        case "bool":
          return r.readBoolean();
        case "u32":
          return r.readUint32();
        case "u64":
          return r.readUint64();
        case "bytes":
          return r.readBytes(n);
        case "string":
          return r.readString();
        case "utf8":
          return r.readStringUtf8();
        case "mpint":
          return r.readMpint();
        case "names":
          return r.readNameList();
      }
    }, [SshWireError]);
    assert.ok(r.offset >= before && r.offset <= buf.length);
    assert.equal(r.remaining, buf.length - r.offset);
    assert.equal(r.atEnd(), r.offset === buf.length);
    if (!res.ok) return;
    const v = res.value;
    if (op === "u32") assert.ok(typeof v === "number" && v >= 0 && v <= 0xffffffff);
    if (op === "mpint") assert.ok(v instanceof Uint8Array && (v.length === 0 || v[0] !== 0));
  }
}

/** Length-prefixed strings with lying lengths. */
const lyingStrings = fc.array(
  fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.oneof(fc.constantFrom(...EXTREME_U32), fc.nat())),
  { minLength: 1, maxLength: 4 },
).map((parts) => {
  const w = new SshWriter();
  for (const [body, len] of parts) w.writeUint32(len >>> 0).writeBytes(body);
  return w.toBytes();
});

type Field =
  | { t: "byte"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "u32"; v: number }
  | { t: "u64"; v: bigint }
  | { t: "string"; v: Uint8Array }
  | { t: "utf8"; v: string }
  | { t: "mpint"; v: Uint8Array }
  | { t: "names"; v: string[] };

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ t: fc.constant("byte" as const), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ t: fc.constant("bool" as const), v: fc.boolean() }),
  fc.record({ t: fc.constant("u32" as const), v: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ t: fc.constant("u64" as const), v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({ t: fc.constant("string" as const), v: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ t: fc.constant("utf8" as const), v: fc.string({ unit: "binary", maxLength: 32 }) }),
  fc.record({ t: fc.constant("mpint" as const), v: fc.uint8Array({ maxLength: 70 }) }),
  fc.record({
    t: fc.constant("names" as const),
    v: fc.array(fc.stringMatching(/^[a-z0-9@.-]{1,20}$/), { maxLength: 5 }),
  }),
);

export const cases: FuzzCase[] = [
  {
    name:
      "ssh wire: any read sequence over raw, mutated and length-lying bytes stays in bounds or throws SshWireError",
    runs: 3500,
    property: fc.property(
      fc.oneof(rawBytes, lyingStrings, mutatedBytes(lyingStrings)),
      ops,
      fc.nat({ max: 100 }),
      (buf, seq, n) => readAll(buf, seq, n),
    ),
  },
  {
    name: "ssh wire: writer -> reader round trip for every field type",
    runs: 2800,
    property: fc.property(fc.array(field, { maxLength: 10 }), (fields) => {
      const w = new SshWriter();
      for (const f of fields) {
        switch (f.t) {
          case "byte":
            w.writeByte(f.v);
            break;
          case "bool":
            w.writeBoolean(f.v);
            break;
          case "u32":
            w.writeUint32(f.v);
            break;
          case "u64":
            w.writeUint64(f.v);
            break;
          case "string":
            w.writeString(f.v);
            break;
          case "utf8":
            w.writeString(f.v);
            break;
          case "mpint":
            w.writeMpint(f.v);
            break;
          case "names":
            w.writeNameList(f.v);
            break;
        }
      }
      const bytes = w.toBytes();
      assert.equal(bytes.length, w.length);
      const r = new SshReader(bytes);
      for (const f of fields) {
        switch (f.t) {
          case "byte":
            assert.equal(r.readByte(), f.v);
            break;
          case "bool":
            assert.equal(r.readBoolean(), f.v);
            break;
          case "u32":
            assert.equal(r.readUint32(), f.v);
            break;
          case "u64":
            assert.equal(r.readUint64(), f.v);
            break;
          case "string":
            assert.deepEqual(r.readString(), f.v);
            break;
          case "utf8":
            assert.equal(r.readStringUtf8(), f.v);
            break;
          case "mpint": {
            let i = 0;
            while (i < f.v.length && f.v[i] === 0) i++;
            assert.deepEqual(r.readMpint(), f.v.subarray(i));
            break;
          }
          case "names":
            assert.deepEqual(r.readNameList(), f.v);
            break;
        }
      }
      assert.ok(r.atEnd());
    }),
  },
];

fuzzTests(cases);
