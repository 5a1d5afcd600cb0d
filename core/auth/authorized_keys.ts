/**
 * Parser for OpenSSH `authorized_keys` text. Honoured options:
 * `cert-authority`, `principals=`, `from=`, `expiry-time=`,
 * `no-port-forwarding`, `permitopen=`, `permitlisten=`, `restrict`,
 * `port-forwarding`, alknet's `alknet-scopes=`, and the no-ops `no-pty`,
 * `no-agent-forwarding`, `no-x11-forwarding`, `no-user-rc` (alknet has no
 * shells). A line with any other option, a malformed option, an undecodable
 * key or a type mismatch is skipped with a warning naming file and line.
 * Parsing never throws on hostile text.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { cidrContains, parseCidr, parseIp, wildcardMatch } from "../transport/addr.ts";
import {
  parsePublicKeyBlob,
  PublicKeyError,
  type SshPublicKey,
  SUPPORTED_KEY_TYPES,
} from "./keys.ts";
import { fromBase64 } from "../util/bytes.ts";

/**
 * Scope granted to a listed key without `alknet-scopes=`.
 *
 * @example
 * ```ts
 * import { DEFAULT_SCOPE } from "@alknet/core/auth";
 * console.log(DEFAULT_SCOPE); // "relay:connect"
 * ```
 */
export const DEFAULT_SCOPE = "relay:connect";

/** Longest line considered; longer lines are skipped. */
const MAX_LINE = 32 * 1024;

/**
 * The options of one `authorized_keys` line, parsed and validated.
 *
 * @example
 * ```ts
 * import { parseAuthorizedKeys } from "@alknet/core/auth";
 * const [e] = parseAuthorizedKeys(
 *   'no-port-forwarding ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBERERERERERERERERERERERERERERERERERERERERER me',
 *   "keys",
 * );
 * console.log(e.options.noPortForwarding); // true
 * ```
 */
export interface AuthorizedKeyOptions {
  /** The key is a CA trusted to sign user certificates. */
  certAuthority: boolean;
  /** For CA lines: principals a certificate must name (one is enough). */
  principals?: string[];
  /** `from=` patterns (`*`/`?` wildcards, `!` negation, CIDR). */
  from?: string[];
  /** `expiry-time=` as Unix milliseconds; the key is refused after it. */
  expiresAt?: number;
  /** `no-port-forwarding`, or `restrict` without `port-forwarding`. */
  noPortForwarding: boolean;
  /** `permitopen=` targets (`host:port`, port may be `*`). */
  permitOpen?: string[];
  /** `permitlisten=` binds (`[host:]port`, port may be `*`). */
  permitListen?: string[];
  /** `alknet-scopes=`, or {@link DEFAULT_SCOPE}. */
  scopes: string[];
}

/**
 * One usable line of an `authorized_keys` file.
 *
 * @example
 * ```ts
 * import { parseAuthorizedKeys } from "@alknet/core/auth";
 * const entries = parseAuthorizedKeys("# nothing here\n", "keys");
 * console.log(entries.length); // 0
 * ```
 */
export interface AuthorizedKeyEntry {
  /** The decoded key (for `cert-authority` lines: the CA key). */
  key: SshPublicKey;
  /** The comment after the key, possibly empty. */
  comment: string;
  /** Parsed options. */
  options: AuthorizedKeyOptions;
  /** File name (or other label) the line came from. */
  source: string;
  /** 1-based line number. */
  line: number;
}

/**
 * Receives one human-readable warning, e.g. `keys:3: unknown option 'x'`.
 *
 * @example
 * ```ts
 * import { parseAuthorizedKeys, type WarnFn } from "@alknet/core/auth";
 * const warnings: string[] = [];
 * const warn: WarnFn = (message) => warnings.push(message);
 * parseAuthorizedKeys("not a key line\n", "inline", warn);
 * console.log(warnings.length); // 1
 * ```
 */
export type WarnFn = (message: string) => void;

class LineError extends CoreError {
  constructor(message: string) {
    super("authorized-keys", message);
  }
}

/** Splits the options field into `name[=value]` items, unquoting values. */
function splitOptions(field: string): { name: string; value?: string }[] {
  const out: { name: string; value?: string }[] = [];
  let i = 0;
  while (i < field.length) {
    let name = "";
    while (i < field.length && field[i] !== "=" && field[i] !== ",") {
      if (field[i] === '"') throw new LineError("unexpected quote in option name");
      name += field[i++];
    }
    if (name === "") throw new LineError("empty option");
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      throw new LineError(`bad option name '${name.slice(0, 40)}'`);
    }
    let value: string | undefined;
    if (field[i] === "=") {
      i++;
      if (field[i] !== '"') throw new LineError(`option '${name}' value must be double-quoted`);
      i++;
      value = "";
      let closed = false;
      while (i < field.length) {
        const c = field[i];
        if (c === "\\" && field[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new LineError(`option '${name}' has an unterminated quoted value`);
    }
    out.push({ name: name.toLowerCase(), value });
    if (i < field.length) {
      if (field[i] !== ",") throw new LineError(`expected ',' after option '${name}'`);
      i++;
      if (i === field.length) throw new LineError("trailing ',' in options");
    }
  }
  return out;
}

/** Reads the options field: up to the first whitespace outside quotes. */
function takeOptionsField(line: string): { field: string; rest: string } {
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\" && inQuote && line[i + 1] === '"') {
      i++;
      continue;
    }
    if (c === '"') inQuote = !inQuote;
    else if (!inQuote && (c === " " || c === "\t")) {
      return { field: line.slice(0, i), rest: line.slice(i).trimStart() };
    }
  }
  if (inQuote) throw new LineError("unterminated quote in options");
  return { field: line, rest: "" };
}

function parseList(name: string, value: string): string[] {
  const items = value.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw new LineError(`${name}= has an empty entry`);
  return items;
}

/** Parses `YYYYMMDD[HHMM[SS]][Z]`; local time unless `Z`. */
export function parseExpiryTime(value: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?([Zz])?$/.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((k) => Number(m[k] ?? 0));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const t = m[7] ? Date.UTC(y, mo - 1, d, h, mi, s) : new Date(y, mo - 1, d, h, mi, s).getTime();
  // Reject dates that rolled over (e.g. Feb 30).
  const check = m[7] ? new Date(t).getUTCDate() : new Date(t).getDate();
  if (check !== d) return null;
  return t;
}

/** Validates `host:port` (permitopen) or `[host:]port` (permitlisten). */
export function splitHostPort(
  value: string,
  hostOptional: boolean,
): { host?: string; port: string } | null {
  let host: string | undefined;
  let port: string;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0 || value[close + 1] !== ":") return null;
    host = value.slice(1, close);
    port = value.slice(close + 2);
    if (host === "" || !host.includes(":")) return null;
  } else {
    const colon = value.lastIndexOf(":");
    if (colon < 0) {
      if (!hostOptional) return null;
      port = value;
    } else {
      host = value.slice(0, colon);
      port = value.slice(colon + 1);
      if (host === "" || host.includes(":")) return null;
    }
  }
  if (host !== undefined && !/^[A-Za-z0-9._*?:%-]+$/.test(host)) return null;
  if (port !== "*") {
    if (!/^(0|[1-9][0-9]{0,4})$/.test(port) || Number(port) > 65535) return null;
    if (!hostOptional && Number(port) === 0) return null;
  }
  return { host, port };
}

const NOOP_OPTIONS = new Set(["no-pty", "no-agent-forwarding", "no-x11-forwarding", "no-user-rc"]);

function buildOptions(items: { name: string; value?: string }[]): AuthorizedKeyOptions {
  const o: AuthorizedKeyOptions = { certAuthority: false, noPortForwarding: false, scopes: [] };
  let restrict = false;
  let portForwarding = false;
  let explicitNoPf = false;
  let scopes: string[] | undefined;
  const seen = new Set<string>();
  const single = (name: string) => {
    if (seen.has(name)) throw new LineError(`option '${name}' given twice`);
    seen.add(name);
  };
  const flag = (name: string, value: string | undefined) => {
    if (value !== undefined) throw new LineError(`option '${name}' takes no value`);
  };
  const need = (name: string, value: string | undefined): string => {
    if (value === undefined) throw new LineError(`option '${name}' needs a value`);
    return value;
  };
  for (const { name, value } of items) {
    switch (name) {
      case "cert-authority":
        flag(name, value);
        o.certAuthority = true;
        break;
      case "no-port-forwarding":
        flag(name, value);
        explicitNoPf = true;
        break;
      case "restrict":
        flag(name, value);
        restrict = true;
        break;
      case "port-forwarding":
        flag(name, value);
        portForwarding = true;
        break;
      case "principals":
        single(name);
        o.principals = parseList(name, need(name, value));
        break;
      case "from": {
        single(name);
        const pats = parseList(name, need(name, value));
        for (const p of pats) {
          const bare = p.startsWith("!") ? p.slice(1) : p;
          if (bare === "") throw new LineError(`from= has an empty pattern`);
          if (bare.includes("/")) {
            try {
              parseCidr(bare);
            } catch (e) {
              throw new LineError(`from= pattern '${p}': ${(e as Error).message}`);
            }
          } else if (!/^[A-Za-z0-9.:*?_%-]+$/.test(bare)) {
            throw new LineError(`from= pattern '${p}' has invalid characters`);
          }
        }
        o.from = pats;
        break;
      }
      case "expiry-time": {
        single(name);
        const v = need(name, value);
        const t = parseExpiryTime(v);
        if (t === null) throw new LineError(`expiry-time="${v}" is not YYYYMMDD[HHMM[SS]][Z]`);
        o.expiresAt = t;
        break;
      }
      case "permitopen": {
        const v = need(name, value);
        const hp = splitHostPort(v, false);
        if (!hp) throw new LineError(`permitopen="${v}" is not host:port`);
        (o.permitOpen ??= []).push(v);
        break;
      }
      case "permitlisten": {
        const v = need(name, value);
        const hp = splitHostPort(v, true);
        if (!hp) throw new LineError(`permitlisten="${v}" is not [host:]port`);
        (o.permitListen ??= []).push(v);
        break;
      }
      case "alknet-scopes": {
        single(name);
        const list = parseList(name, need(name, value));
        for (const s of list) {
          if (!/^[A-Za-z0-9:._*\/-]+$/.test(s)) {
            throw new LineError(`alknet-scopes entry '${s}' has invalid characters`);
          }
        }
        scopes = list;
        break;
      }
      default:
        if (NOOP_OPTIONS.has(name)) {
          flag(name, value);
          break;
        }
        throw new LineError(`unknown option '${name}'`);
    }
  }
  o.noPortForwarding = explicitNoPf || (restrict && !portForwarding);
  o.scopes = scopes ?? [DEFAULT_SCOPE];
  return o;
}

function decodeBase64(s: string): Uint8Array | null {
  return s === "" ? null : fromBase64(s);
}

function parseLine(line: string, source: string, lineNo: number): AuthorizedKeyEntry {
  let rest = line;
  let items: { name: string; value?: string }[] = [];
  const firstWord = /^\S+/.exec(rest)?.[0] ?? "";
  if (!SUPPORTED_KEY_TYPES.includes(firstWord) && !/^(ssh|ecdsa|sk)-/.test(firstWord)) {
    const { field, rest: after } = takeOptionsField(rest);
    items = splitOptions(field);
    rest = after;
  }
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(rest);
  if (!m) throw new LineError("missing key type or key data");
  const [, type, data, comment] = m;
  if (!SUPPORTED_KEY_TYPES.includes(type)) {
    throw new LineError(`unsupported key type '${type.slice(0, 60)}'`);
  }
  const options = buildOptions(items);
  const blob = decodeBase64(data);
  if (!blob) throw new LineError("key data is not valid base64");
  let key: SshPublicKey;
  try {
    key = parsePublicKeyBlob(blob);
  } catch (e) {
    if (e instanceof PublicKeyError) throw new LineError(e.message);
    throw e;
  }
  if (key.type !== type) {
    throw new LineError(`key type mismatch: line says '${type}', key data is '${key.type}'`);
  }
  return { key, comment: (comment ?? "").trim(), options, source, line: lineNo };
}

/**
 * Parses `authorized_keys` text. Blank lines and `#` comments are ignored;
 * a bad line is skipped and reported through `warn` as `source:line: why`.
 * Never throws.
 *
 * @param text the file contents
 * @param source file name used in warnings and in each entry
 * @param warn receives one message per skipped line (default: ignore)
 * @example
 * ```ts
 * import { parseAuthorizedKeys } from "@alknet/core/auth";
 * const warnings: string[] = [];
 * const entries = parseAuthorizedKeys("bogus-option ssh-ed25519 AAAA\n", "keys", (m) => warnings.push(m));
 * console.log(entries.length, warnings[0]); // 0 keys:1: unknown option 'bogus-option'
 * ```
 */
export function parseAuthorizedKeys(
  text: string,
  source: string,
  warn: WarnFn = () => {},
): AuthorizedKeyEntry[] {
  const out: AuthorizedKeyEntry[] = [];
  const lines = String(text).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.length > MAX_LINE) {
      warn(`${source}:${i + 1}: line longer than ${MAX_LINE} characters, skipped`);
      continue;
    }
    try {
      out.push(parseLine(line, source, i + 1));
    } catch (e) {
      const why = e instanceof LineError ? e.message : `unexpected error: ${String(e)}`;
      warn(`${source}:${i + 1}: ${why}; line skipped`);
    }
  }
  return out;
}

/**
 * Evaluates a `from=` pattern list against a client IP address the way
 * OpenSSH does without DNS: a matching negated pattern refuses at once,
 * otherwise any matching positive pattern accepts.
 *
 * @example
 * ```ts
 * import { matchFrom } from "@alknet/core/auth";
 * console.log(matchFrom(["10.0.0.0/8", "!10.0.0.1"], "10.0.0.1")); // false
 * console.log(matchFrom(["192.168.1.*"], "192.168.1.9")); // true
 * ```
 */
export function matchFrom(patterns: string[], address: string): boolean {
  const bytes = parseIp(address);
  // Compare wildcards against a canonical form when the address is an IP.
  const text = bytes && bytes.length === 4 ? Array.from(bytes).join(".") : address;
  let ok = false;
  for (const raw of patterns) {
    const neg = raw.startsWith("!");
    const p = neg ? raw.slice(1) : raw;
    let hit: boolean;
    if (p.includes("/")) {
      try {
        const c = parseCidr(p);
        hit = bytes !== null && cidrContains(c, bytes);
      } catch {
        hit = false;
      }
    } else {
      hit = wildcardMatch(p, text) || (text !== address && wildcardMatch(p, address));
    }
    if (hit && neg) return false;
    if (hit) ok = true;
  }
  return ok;
}
