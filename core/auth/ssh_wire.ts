/**
 * Small readers and writers for the SSH wire format (RFC 4251 section 5):
 * `uint32`, `uint64`, `string`, `mpint` and `name-list`. Every read is bounds
 * checked and throws {@link SshWireError} instead of reading past the end.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
/**
 * Thrown when SSH wire data is truncated or malformed.
 *
 * @example
 * ```ts
 * import { SshReader, SshWireError } from "@alknet/core/auth";
 * try {
 *   new SshReader(new Uint8Array([0, 0])).readUint32();
 * } catch (e) {
 *   console.log(e instanceof SshWireError); // true
 * }
 * ```
 */
export class SshWireError extends CoreError {
  /** Creates the error; `message` says what was being read. */
  constructor(message: string) {
    super("ssh-wire", message);
    this.name = "SshWireError";
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8enc = new TextEncoder();

/**
 * Sequential, bounds-checked reader over SSH wire data.
 *
 * @example
 * ```ts
 * import { SshReader, SshWriter } from "@alknet/core/auth";
 * const bytes = new SshWriter().writeString("ssh-ed25519").writeUint32(7).toBytes();
 * const r = new SshReader(bytes);
 * console.log(r.readStringUtf8(), r.readUint32(), r.atEnd()); // ssh-ed25519 7 true
 * ```
 */
export class SshReader {
  #buf: Uint8Array;
  #pos = 0;

  /** Reads from `buf`, starting at its first byte. */
  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  /** Current offset from the start of the buffer. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  /** True when every byte has been consumed. */
  atEnd(): boolean {
    return this.#pos === this.#buf.length;
  }

  #need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new SshWireError(
        `truncated ${what}: need ${n} bytes at offset ${this.#pos}, have ${this.remaining}`,
      );
    }
  }

  /** Reads one byte. */
  readByte(): number {
    this.#need(1, "byte");
    return this.#buf[this.#pos++];
  }

  /** Reads a `boolean` (any non-zero byte is true). */
  readBoolean(): boolean {
    return this.readByte() !== 0;
  }

  /** Reads a big-endian `uint32`. */
  readUint32(): number {
    this.#need(4, "uint32");
    const b = this.#buf;
    const p = this.#pos;
    this.#pos += 4;
    return ((b[p] << 24) >>> 0) + (b[p + 1] << 16) + (b[p + 2] << 8) + b[p + 3];
  }

  /** Reads a big-endian `uint64` as a bigint. */
  readUint64(): bigint {
    const hi = this.readUint32();
    const lo = this.readUint32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Reads `n` raw bytes (a view, not a copy). */
  readBytes(n: number): Uint8Array {
    this.#need(n, "bytes");
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Reads a length-prefixed `string` as bytes (a view, not a copy). */
  readString(): Uint8Array {
    const len = this.readUint32();
    this.#need(len, "string body");
    return this.readBytes(len);
  }

  /** Reads a length-prefixed `string` and decodes it as strict UTF-8. */
  readStringUtf8(): string {
    const bytes = this.readString();
    try {
      return utf8.decode(bytes);
    } catch {
      throw new SshWireError(`string at offset ${this.#pos - bytes.length} is not valid UTF-8`);
    }
  }

  /**
   * Reads an `mpint` and returns its magnitude bytes without leading zeros.
   * Negative values are rejected.
   */
  readMpint(): Uint8Array {
    const bytes = this.readString();
    if (bytes.length > 0 && (bytes[0] & 0x80) !== 0) {
      throw new SshWireError("negative mpint");
    }
    let i = 0;
    while (i < bytes.length && bytes[i] === 0) i++;
    return bytes.subarray(i);
  }

  /** Reads a comma-separated `name-list`; an empty string is an empty list. */
  readNameList(): string[] {
    const s = this.readStringUtf8();
    return s === "" ? [] : s.split(",");
  }
}

/**
 * Builds SSH wire data.
 *
 * @example
 * ```ts
 * import { SshWriter } from "@alknet/core/auth";
 * const blob = new SshWriter().writeString("ssh-ed25519").writeString(new Uint8Array(32)).toBytes();
 * console.log(blob.length); // 51
 * ```
 */
export class SshWriter {
  #parts: Uint8Array[] = [];
  #len = 0;

  #push(b: Uint8Array): this {
    this.#parts.push(b);
    this.#len += b.length;
    return this;
  }

  /** Appends one byte. */
  writeByte(v: number): this {
    return this.#push(Uint8Array.of(v & 0xff));
  }

  /** Appends a `boolean`. */
  writeBoolean(v: boolean): this {
    return this.writeByte(v ? 1 : 0);
  }

  /** Appends a big-endian `uint32`. */
  writeUint32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new SshWireError(`uint32 out of range: ${v}`);
    }
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    return this.#push(b);
  }

  /** Appends a big-endian `uint64`. */
  writeUint64(v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) throw new SshWireError(`uint64 out of range: ${v}`);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v);
    return this.#push(b);
  }

  /** Appends raw bytes without a length prefix. */
  writeBytes(b: Uint8Array): this {
    return this.#push(b);
  }

  /** Appends a length-prefixed `string` (text is encoded as UTF-8). */
  writeString(v: Uint8Array | string): this {
    const b = typeof v === "string" ? utf8enc.encode(v) : v;
    this.writeUint32(b.length);
    return this.#push(b);
  }

  /** Appends an unsigned `mpint` from its big-endian magnitude bytes. */
  writeMpint(magnitude: Uint8Array): this {
    let i = 0;
    while (i < magnitude.length && magnitude[i] === 0) i++;
    const m = magnitude.subarray(i);
    if (m.length > 0 && (m[0] & 0x80) !== 0) {
      const padded = new Uint8Array(m.length + 1);
      padded.set(m, 1);
      return this.writeString(padded);
    }
    return this.writeString(m);
  }

  /** Appends a `name-list`. */
  writeNameList(names: string[]): this {
    return this.writeString(names.join(","));
  }

  /** How many bytes have been written. */
  get length(): number {
    return this.#len;
  }

  /** The bytes written so far. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.#len);
    let p = 0;
    for (const part of this.#parts) {
      out.set(part, p);
      p += part.length;
    }
    return out;
  }
}
