// Fixtures shared by the auth fuzz tests (no tests here): one key of every
// supported type, OpenSSH private key files, and length-lying mutations of
// SSH wire blobs. Every key is fixed (throwaway test keys written out below,
// Ed25519 from fixed seeds) so a seed replays the same cases in any process.
import { createPrivateKey, createPublicKey, sign as nodeSign } from "node:crypto";
import { Buffer } from "node:buffer";
import { EXTREME_U32, fc, lieAboutLength } from "../../tests/fuzz_util.ts";
import { ed25519Key, type TestKey } from "./fixtures_test.ts";
import { encodeOpenSshPrivateKey } from "./ssh_keys.ts";
import { SshReader, SshWriter } from "./ssh_wire.ts";

const P256 = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxnpgN4ITl/Q6QIBs
tXwuLSbSWeQBGFdOe3pnd5Ur9FmhRANCAAQ0vRUXEhdkJGCC6z/pm3NkokQv6lEm
B7b0oqjQZaohlx4E1DRIh97zUH6Y3eX5LAsDNdQX798wUGQVbWQiJVf/
-----END PRIVATE KEY-----
`;

const P384 = `-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDAgSAoTXUszl3siYBNq
MUiX+rXPOKrUNlmmgdCRMZFbzMKIcliK8xX6SFZE3Z50PY6hZANiAASNKp8tXxKB
CCssEiT6N7So5FPPYjccIxiDUfPbyffL/V71Wf1dKnNwGq44QwWUAt+EWzyV6NUx
MMVZKwtxrc8u+V9FFQZNBGowEjaZfu9Y2Wudm7MiV3WQ5yCMjCzQ6e4=
-----END PRIVATE KEY-----
`;

const P521 = `-----BEGIN PRIVATE KEY-----
MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIAAmY/jPD7enBjqCjF
wOgE3XZMiJs8RVLftj3OCj1F3b1Y+USIjPTfZieLzSu4ULQduolsJud+Dw8EI9HZ
63JbF22hgYkDgYYABABDlc2wIaeJ+ObNSGvi6ywQ6DlaDNG65Vs7uLQAC9sQ86Aq
5BIsidETXKynF0H1rfu8nXiES1ODr3aU3fz4QzLeDgFyq66wxT84jwmmw5o57bOO
OMGLzi5LYbub4KP/fEjHN+MiwliHw8nM5ff0ecX+4kRU9i5AKZuhmwSU6sbw6XBD
2A==
-----END PRIVATE KEY-----
`;

const RSA = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDEFjToBiX4SpFC
v07mdv2XdCeUXBzRtX813mGqavrNSiDlkkSDiKhry3Qxo3HE6eSFfobD/xDZOBRu
eBudeEwbjIFXKMk6TzJPOMPEcXHkClb8TdtqcRU/8JRcyE17gYMyRkw2B/hRAD12
6EhujIvSMvlx9sqGdcbjSlIqdYH5+PZkg5NMr9TXOL32jrJ2INwaqR33Lt6gwTUS
HyrcKsc1eUO9pPlQMvTZc51G6W51IEWlliteLLoy0rZzOCczj9mbsY20vlsKGrZ0
hadBEtjOK5wDp7LnUXZSd2i9av69QzersIex7tPTIHHA3GaM8OusP1O3L9VtMET2
1ThZUcRbAgMBAAECggEAPUOi7AtfuZ+ymuQixqbOvI8x/ox5BJxsTmxYn2IlUhaj
CJcWiPIdjPBYMVobpaZeG8dYW8xJe1SmLY2hMyXuwXy4vH6lwG4WDeJyZ+H574G7
g8DfmPYT6ZJFCGgcrUXds8t67Da5QrWMfqY8Wy3WUapTfWPaCwCpT0JdQZ7NKUgv
cte5Vi/mXPlEs/xRfb0HwM5ZDJ5FXXff9xfnoof6j+Uu24bxxEA4wIZBMLyGa/d4
D0uR0aWQxfzukMjC/Aelflhm0MYYvpdk/25uW4RdziQjoJz0XuvBd2fWG/arqW7Z
8A4hosfErHme/gBCpYWwayg7c/lQpju6MvYSy+XOgQKBgQDxBdbrtZoOp/ehDw3s
kw26YRbqeDJrpObXzmlhdZH6Bzyx2jycOZ8VFsebJI8rydeb8hAqJJa7RxDWinDO
GG1pha4dKCipLZSVDr+RF6MzgYYV1b6dEqm7z1Gr5a2kp9Dmlfx0vZigOn++GnOM
mROBuKv+ac4hQ5EUUGab0fA3iwKBgQDQRYelKnLJEwDhIIBavYkvp5dhBJIahRB0
+2XJeGe6bbPCPScVry695P2z7niTrcK8hTgTXQAi4i8jmd8n1iNedSiISgKlpoL8
J6s1fl5gNF4WjFJX8fWWxAs2q0Vu4vSMz2OJhCWy6wPgtqwOcMj8UckpPbgQFhA0
6tePWgPAcQKBgA+QWPiPmYsovYzg8/064cAPVPN/H4Jj+6Qj6BorBWon3Xt+pDtS
XTt3ZRxXmAcz2YBweSq/ghxF0oiIGBC28xnFUCEB3t5N2zJk6WntJNTGoGn4i36J
HfzKvnNjOXtQeuTo+oxvUdPG80jLXHrPx7qwuiqLmov7WPr+1iFpxSFRAoGAY2Vb
eDLK9zVvjQGC4EtmZmzYLQAObkOk9/9ms4EYF/v09zVSKuIhL5VSkwWzW99oeaom
ee8/emZx0s7DlnJ3DMRjJLAVlVLjXk3cQrpddhJn+ODdB4W9DEfhhiS1DVeZGH59
ZYrApyPMBPmJIZcoBGtP0rPW3S56a5bMa2itM7ECgYEAgdNuLOFs0DxFw5UKlAL2
sANy9sIPTakKZBfXSV1XsADC8KfIO+v3837MA9IejXSEokBUm2lb+FCL6dlAAHcr
SPi5VEZkeuueIJEIyOKFZRs3GJ+ycdDXqQO92RWVhjE1rWJ3MTJ4v3myVgZHm+un
pF4hVAzmcOQrKRELv+W7M24=
-----END PRIVATE KEY-----
`;

function b64(b: Uint8Array): string {
  return Buffer.from(b).toString("base64");
}

function fromB64url(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "base64url"));
}

function ecdsaFixed(pem: string, bits: 256 | 384 | 521): TestKey {
  const ident = `nistp${bits}`;
  const type = `ecdsa-sha2-${ident}`;
  const privateKey = createPrivateKey(pem);
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  const x = fromB64url(jwk.x!), y = fromB64url(jwk.y!);
  const q = Uint8Array.from([4, ...x, ...y]);
  const blob = new SshWriter().writeString(type).writeString(ident).writeString(q).toBytes();
  const hash = bits === 256 ? "sha256" : bits === 384 ? "sha384" : "sha512";
  const size = bits === 521 ? 66 : bits / 8;
  return {
    type,
    blob,
    line: (comment = "test") => `${type} ${b64(blob)} ${comment}`,
    sign: (d) => new Uint8Array(nodeSign(hash, d, privateKey)),
    signWire: (d) => {
      const p1363 = new Uint8Array(
        nodeSign(hash, d, { key: privateKey, dsaEncoding: "ieee-p1363" }),
      );
      const inner = new SshWriter().writeMpint(p1363.subarray(0, size))
        .writeMpint(p1363.subarray(size)).toBytes();
      return new SshWriter().writeString(type).writeString(inner).toBytes();
    },
  };
}

function rsaFixed(pem: string): TestKey {
  const privateKey = createPrivateKey(pem);
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  const blob = new SshWriter().writeString("ssh-rsa").writeMpint(fromB64url(jwk.e!))
    .writeMpint(fromB64url(jwk.n!)).toBytes();
  const sign = (d: Uint8Array, h: "sha256" | "sha512" = "sha256") =>
    new Uint8Array(nodeSign(h, d, privateKey));
  return {
    type: "ssh-rsa",
    blob,
    line: (comment = "test") => `ssh-rsa ${b64(blob)} ${comment}`,
    sign,
    signWire: (d, h = "sha256") =>
      new SshWriter().writeString(h === "sha256" ? "rsa-sha2-256" : "rsa-sha2-512")
        .writeString(sign(d, h)).toBytes(),
  };
}

/** One key of every supported type. */
export const KEYS: TestKey[] = [
  ed25519Key(1),
  ed25519Key(2),
  ecdsaFixed(P256, 256),
  ecdsaFixed(P384, 384),
  ecdsaFixed(P521, 521),
  rsaFixed(RSA),
];

/** OpenSSH-format ECDSA and RSA private key files (as ssh-keygen or ssh2 write them). */
export const OPENSSH_OTHER_FILES: readonly string[] = [
  `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNl
Y2RzYS1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQTHY05MEdWm9/Pm0ap2
wmBcQ1gxv3EYxNpj5AskIAy8Du2c5j+t3UlECaLDcyAmUoAdomwO+kFEq2Ya0wYQ
DIXdAAAAoKRGNzCkRjcwAAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAy
NTYAAABBBMdjTkwR1ab38+bRqnbCYFxDWDG/cRjE2mPkCyQgDLwO7ZzmP63dSUQJ
osNzICZSgB2ibA76QUSrZhrTBhAMhd0AAAAhAEHIZt46MMndwQtHiSDF/pvqO3oE
rKZ0le7ODTQYeKZcAAAAAmVjAQIDBAU=
-----END OPENSSH PRIVATE KEY-----
`,
  `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABFwAAAAdz
c2gtcnNhAAAAAwEAAQAAAQEAoDy++hlFNNX+fIuOB5RiSX8NKZb6hAB/a9gziKd6
ZfyksG1hFcmQegN70PBfQrw82p8xzjAjmo/W+7JZbPKKO3DB5opLJbApoReOp+dx
bz4JacScbeUk1y3ooxDM2TfNDWi3nKuc1zAxttvf9VVBB9e0KBtUR6LWplsZykLj
IwiWeh54QYNGPRa6ZsIHwpaX5utDiX/pb5WB4OUpTZT2NdqbSLD1rzfSRmo2vLc3
GgDixZyYFXxYQfn28hsD5nY+I74oUCj36Bq9TJ2fB9rKHyhrvV5bwW8vhjvQJco/
tX/uitBNLasgzqGm3gkTcvXp3IvBbP6iEiW2W46sLIzPpQAAA7gDYFwMA2BcDAAA
AAdzc2gtcnNhAAABAQCgPL76GUU01f58i44HlGJJfw0plvqEAH9r2DOIp3pl/KSw
bWEVyZB6A3vQ8F9CvDzanzHOMCOaj9b7slls8oo7cMHmikslsCmhF46n53FvPglp
xJxt5STXLeijEMzZN80NaLecq5zXMDG229/1VUEH17QoG1RHotamWxnKQuMjCJZ6
HnhBg0Y9FrpmwgfClpfm60OJf+lvlYHg5SlNlPY12ptIsPWvN9JGaja8tzcaAOLF
nJgVfFhB+fbyGwPmdj4jvihQKPfoGr1MnZ8H2sofKGu9XlvBby+GO9Alyj+1f+6K
0E0tqyDOoabeCRNy9enci8Fs/qISJbZbjqwsjM+lAAAAAwEAAQAAAQAiSx3sVMA1
AJ+IdC2ffahTZnegsQlIevrKT+knlABkF1//ykj+6rabBmfXXbplg/faKjv0juTv
zV0LXS46XOYstoMpHevbUwp1yZ7kXGowjqxhEI0SD/qEevTRAWV2D7U463Jwe2ID
w/K/2erijK5wST/rXX36HuWlkNXCLfKCqpsbruheXF63C2YK0DBHvAsqnV6PUOuv
AVkZiKySgyp2UwVF3TWYwgXsFIvDkIWcxkclvu4D8qgmVlGcuu6BpEmrKqk82MRI
M23kjx/n3i0q3//5Xh1NOtcTivPr2lx7R0jJOquCv4O/Zv/y//jgvgAKAhbH7kYj
v2iib7FLDDxBAAAAgHaIkmZhgv67RBmsuVYD1jmfae5MHj5dvF2HhpXWmIS7Ov0L
4yoWiQGxlgAWlPd4lz/Tf+u0J4fTBJDEYmPOlg9ZmQ55ONeze7eTSPXc66jh/rTO
3DHJtXCdPe7+KFWnFGMC4toQ5yfpOqXCwtsI1O2hIQRNZztWfszahpoUrLQAAAAA
gQDDy5N5PxNdpQKbnT4b8m4HFz8Bgs3jmVWQi8eIdukQjUDVqidmzE99ftVWLV1a
bVFc0seYWb8ZsdsNlsJDqpex6VchzlS/2iTV+Bz5LbQDQ1a8egm9tqx8SamfXiP6
f38P0qjv4FwCvvouqfj72qE4xf34B/pVvx3K4ZH/UicjDQAAAIEA0YInfHxh3x0h
3L+LrSydwyyZ8rpNgpI5hCJOioy4SmGlpJqWDV8+8R9v8DfPYdpH2rWmiMCCSgsh
I6JMwVGJudTFMoodf2bHeCPlynvTF3CDenQruJeWx9qq8yWkJaRSWE24Fn7cvhOL
4ncocTwko4IzY6iaLkgNNLSkc2tcmPkAAAADcnNh
-----END OPENSSH PRIVATE KEY-----
`,
];

/**
 * An Ed25519 private key file from a seed, with fixed check bytes (the
 * encoder picks random ones) so the same seed gives the same text.
 */
export function fixedEd25519File(seed: Uint8Array, comment: string): string {
  const text = encodeOpenSshPrivateKey(seed, comment);
  const lines = text.trim().split("\n");
  const bin = new Uint8Array(Buffer.from(lines.slice(1, -1).join(""), "base64"));
  const r = new SshReader(bin.subarray(15));
  r.readString();
  r.readString();
  r.readString();
  r.readUint32();
  r.readString();
  const privLen = r.readUint32();
  const at = 15 + r.offset;
  void privLen;
  bin.set([1, 2, 3, 4, 1, 2, 3, 4], at);
  const b = b64(bin);
  return `${lines[0]}\n${(b.match(/.{1,70}/g) ?? []).join("\n")}\n${lines[lines.length - 1]}\n`;
}

/** Offsets of the top-level length fields of a blob made of strings only. */
export function stringOffsets(blob: Uint8Array): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + 4 <= blob.length) {
    out.push(off);
    off += 4 + new DataView(blob.buffer, blob.byteOffset + off, 4).getUint32(0);
  }
  return out;
}

/** Valid blobs with one string length rewritten (too short, too long, huge). */
export function lyingBlobs(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(
    valid,
    fc.nat(),
    fc.oneof(fc.constantFrom(...EXTREME_U32), fc.integer({ min: -4, max: 4 })),
  )
    .map(([b, i, v]) => {
      const offs = stringOffsets(b);
      const at = offs[i % offs.length];
      const len = new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0);
      return lieAboutLength(b, at, v >= -4 && v <= 4 && v !== 0 ? len + v : v);
    });
}
