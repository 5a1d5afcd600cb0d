/**
 * The forwarding policy: ordered allow/deny rules, first match
 * wins, else a default; plus {@link restrictionsAllow}, which applies the
 * per-key `no-port-forwarding` / `permitopen=` / `permitlisten=` limits.
 *
 * Target patterns: `*`; a host name, optionally with one `*` wildcard that
 * stands for one or more characters (`*.example.com` does not match
 * `example.com`); an IP literal (`10.1.2.3`, `[::1]`); a CIDR block
 * (`10.0.0.0/8`, `fd00::/8`, `[fd00::]/8`), which matches IP literals only;
 * any of those followed by `:port` or `:lo-hi` (inclusive). `alknet-*` is an
 * ordinary wildcard that matches the reserved `alknet-` destinations.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import type { ForwardingPolicy, ForwardRestrictions, PolicyRequest } from "./identity.ts";
import {
  type Cidr,
  cidrContains,
  CidrError,
  formatIp,
  parseCidr,
  parseIp,
  wildcardMatch,
} from "../transport/addr.ts";
import { splitHostPort } from "./authorized_keys.ts";

/**
 * One forwarding rule as written in the configuration.
 *
 * @example
 * ```ts
 * import type { PolicyRule } from "@alknet/core/auth";
 * const r: PolicyRule = { action: "deny", target: "10.0.0.0/8", transports: ["ws"] };
 * ```
 */
export interface PolicyRule {
  /** What to do when the rule matches. */
  action: "allow" | "deny";
  /** Target pattern (see the module documentation). */
  target: string;
  /** When set, the rule applies only to identities whose id or any scope is listed. */
  principals?: string[];
  /** When set, the rule applies only to sessions on these transports (`tcp`, `tls`, `quic`, `ws`, ...). */
  transports?: string[];
}

/**
 * Thrown when a rule or target pattern is malformed; names the rule index
 * and the pattern.
 *
 * @example
 * ```ts
 * import { PolicyRuleError, RulePolicy } from "@alknet/core/auth";
 * try {
 *   new RulePolicy([{ action: "allow", target: "a*b*c" }]);
 * } catch (e) {
 *   console.log(e instanceof PolicyRuleError); // true
 * }
 * ```
 */
export class PolicyRuleError extends CoreError {
  /** The offending pattern or value. */
  readonly pattern: string;
  /** Index of the rule in the list, when known. */
  readonly index?: number;
  /** Creates the error. */
  constructor(pattern: string, why: string, index?: number) {
    super(
      "policy",
      `${index !== undefined ? `rule ${index + 1}: ` : ""}bad target '${pattern}': ${why}`,
    );
    this.name = "PolicyRuleError";
    this.pattern = pattern;
    this.index = index;
  }
}

type HostMatcher =
  | { kind: "any" }
  | { kind: "ip"; addr: Uint8Array }
  | { kind: "cidr"; cidr: Cidr }
  | { kind: "name"; name: string }
  | { kind: "wild"; prefix: string; suffix: string };

/**
 * A parsed target pattern.
 *
 * @example
 * ```ts
 * import { parseTarget } from "@alknet/core/auth";
 * const t = parseTarget("*.example.com:443");
 * console.log(t.matches("www.example.com", 443), t.matches("example.com", 443)); // true false
 * ```
 */
export interface TargetPattern {
  /** The pattern text. */
  readonly source: string;
  /** Whether `host`:`port` matches. */
  matches(host: string, port: number): boolean;
}

function parsePortSpec(pattern: string, spec: string): [number, number] {
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(spec);
  if (!m) throw new PolicyRuleError(pattern, `port '${spec}' is not a number or lo-hi range`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > 65535 || hi > 65535) throw new PolicyRuleError(pattern, `port '${spec}' exceeds 65535`);
  if (lo > hi) throw new PolicyRuleError(pattern, `port range '${spec}' is reversed`);
  return [lo, hi];
}

function hostMatcher(pattern: string, host: string): HostMatcher {
  if (host === "") throw new PolicyRuleError(pattern, "empty host");
  if (host === "*") return { kind: "any" };
  if (host.includes("/")) {
    try {
      return { kind: "cidr", cidr: parseCidr(host) };
    } catch (e) {
      throw new PolicyRuleError(pattern, e instanceof CidrError ? e.message : String(e));
    }
  }
  const ip = parseIp(host);
  if (ip) return { kind: "ip", addr: ip };
  if (host.startsWith("[")) throw new PolicyRuleError(pattern, `'${host}' is not an IPv6 address`);
  if (!/^[A-Za-z0-9._*-]+$/.test(host)) {
    throw new PolicyRuleError(pattern, `host '${host}' has invalid characters`);
  }
  const stars = host.split("*").length - 1;
  if (stars > 1) throw new PolicyRuleError(pattern, "more than one '*' wildcard");
  const lower = host.toLowerCase().replace(/\.$/, "");
  if (stars === 0) return { kind: "name", name: lower };
  const at = lower.indexOf("*");
  return { kind: "wild", prefix: lower.slice(0, at), suffix: lower.slice(at + 1) };
}

/**
 * Parses one target pattern.
 *
 * @throws {PolicyRuleError} naming the pattern when it is malformed.
 * @example
 * ```ts
 * import { parseTarget } from "@alknet/core/auth";
 * console.log(parseTarget("[::1]:22").matches("::1", 22)); // true
 * console.log(parseTarget("10.0.0.0/8:1000-2000").matches("10.2.3.4", 1500)); // true
 * ```
 */
export function parseTarget(pattern: string): TargetPattern {
  if (typeof pattern !== "string") throw new PolicyRuleError(String(pattern), "not a string");
  const p = pattern.trim();
  let host: string;
  let portSpec: string | undefined;
  if (p.startsWith("[")) {
    const close = p.indexOf("]");
    if (close < 0) throw new PolicyRuleError(pattern, "missing ']'");
    let after = p.slice(close + 1);
    host = p.slice(1, close);
    if (after.startsWith("/")) {
      // [fd00::]/8[:port]
      const m = /^\/([0-9]{1,3})(?::(.*))?$/.exec(after);
      if (!m) throw new PolicyRuleError(pattern, "bad prefix after ']'");
      host = `${host}/${m[1]}`;
      after = m[2] === undefined ? "" : `:${m[2]}`;
    }
    if (after !== "") {
      if (!after.startsWith(":")) throw new PolicyRuleError(pattern, "expected ':port' after ']'");
      portSpec = after.slice(1);
    }
    if (!host.split("/")[0].includes(":")) {
      throw new PolicyRuleError(pattern, "brackets are only for IPv6 addresses");
    }
  } else if (p.includes("/")) {
    const slash = p.lastIndexOf("/");
    const m = /^([0-9]{1,3})(?::(.*))?$/.exec(p.slice(slash + 1));
    if (!m) throw new PolicyRuleError(pattern, "bad CIDR prefix length");
    host = `${p.slice(0, slash)}/${m[1]}`;
    portSpec = m[2];
  } else if ((p.match(/:/g) ?? []).length > 1) {
    host = p; // bare IPv6 literal, no port
  } else {
    const colon = p.indexOf(":");
    host = colon < 0 ? p : p.slice(0, colon);
    portSpec = colon < 0 ? undefined : p.slice(colon + 1);
  }
  const hm = hostMatcher(pattern, host);
  const range = portSpec === undefined || portSpec === "*"
    ? null
    : parsePortSpec(pattern, portSpec);
  return {
    source: pattern,
    matches(reqHost: string, port: number): boolean {
      if (range && (port < range[0] || port > range[1])) return false;
      return hostMatches(hm, reqHost);
    },
  };
}

function hostMatches(m: HostMatcher, reqHost: string): boolean {
  if (m.kind === "any") return true;
  const ip = parseIp(reqHost);
  switch (m.kind) {
    case "ip":
      return ip !== null && ip.length === m.addr.length && ip.every((b, i) => b === m.addr[i]);
    case "cidr":
      return ip !== null && cidrContains(m.cidr, ip);
    case "name": {
      const h = ip ? formatIp(ip) : reqHost.toLowerCase().replace(/\.$/, "");
      return h === m.name;
    }
    case "wild": {
      const h = ip ? formatIp(ip) : reqHost.toLowerCase().replace(/\.$/, "");
      return h.length > m.prefix.length + m.suffix.length && h.startsWith(m.prefix) &&
        h.endsWith(m.suffix);
    }
  }
}

interface CompiledRule {
  action: "allow" | "deny";
  target: TargetPattern;
  principals?: Set<string>;
  transports?: Set<string>;
}

/**
 * Options of {@link RulePolicy}.
 *
 * @example
 * ```ts
 * import type { RulePolicyOptions } from "@alknet/core/auth";
 * const o: RulePolicyOptions = { defaultAction: "deny" };
 * ```
 */
export interface RulePolicyOptions {
  /** Decision when no rule matches (default `allow`). */
  defaultAction?: "allow" | "deny";
}

function checkStringList(list: unknown, what: string, index: number): string[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.some((x) => typeof x !== "string" || x === "")) {
    throw new PolicyRuleError(String(list), `${what} must be a list of non-empty strings`, index);
  }
  return list as string[];
}

/**
 * Ordered allow/deny rules; the first rule whose target, principals and
 * transports all match decides, else the default. Rules are parsed up front.
 *
 * @example
 * ```ts
 * import { RulePolicy } from "@alknet/core/auth";
 * const policy = new RulePolicy([
 *   { action: "deny", target: "10.0.0.0/8" },
 *   { action: "allow", target: "*.example.com:443" },
 * ], { defaultAction: "deny" });
 * const identity = { id: "SHA256:x", scopes: ["relay:connect"], resources: {} };
 * console.log(policy.evaluate({ kind: "connect", host: "www.example.com", port: 443, transport: "tcp", identity })); // allow
 * ```
 */
export class RulePolicy implements ForwardingPolicy {
  readonly #rules: CompiledRule[];
  readonly #default: "allow" | "deny";

  /**
   * Parses and validates `rules` up front.
   *
   * @throws {PolicyRuleError} naming the rule and pattern when a rule is malformed.
   */
  constructor(rules: readonly PolicyRule[], options: RulePolicyOptions = {}) {
    const d = options.defaultAction ?? "allow";
    if (d !== "allow" && d !== "deny") {
      throw new PolicyRuleError(String(d), "default must be 'allow' or 'deny'");
    }
    this.#default = d;
    this.#rules = rules.map((r, i) => {
      if (r === null || typeof r !== "object") {
        throw new PolicyRuleError(String(r), "not a rule", i);
      }
      if (r.action !== "allow" && r.action !== "deny") {
        throw new PolicyRuleError(r.target, `action '${r.action}' is not allow or deny`, i);
      }
      let target: TargetPattern;
      try {
        target = parseTarget(r.target);
      } catch (e) {
        if (e instanceof PolicyRuleError) {
          throw new PolicyRuleError(r.target, e.message.replace(/^bad target '.*?': /, ""), i);
        }
        throw e;
      }
      const principals = checkStringList(r.principals, "principals", i);
      const transports = checkStringList(r.transports, "transports", i);
      return {
        action: r.action,
        target,
        principals: principals ? new Set(principals) : undefined,
        transports: transports ? new Set(transports.map((t) => t.toLowerCase())) : undefined,
      };
    });
  }

  /** The decision when no rule matches. */
  get defaultAction(): "allow" | "deny" {
    return this.#default;
  }

  /** Decides one request: first matching rule, else the default. */
  evaluate(req: PolicyRequest): "allow" | "deny" {
    for (const r of this.#rules) {
      if (r.transports && !r.transports.has(String(req.transport).toLowerCase())) continue;
      if (r.principals) {
        const p = r.principals;
        if (!p.has(req.identity.id) && !req.identity.scopes.some((s) => p.has(s))) continue;
      }
      if (!r.target.matches(req.host, req.port)) continue;
      return r.action;
    }
    return this.#default;
  }
}

function sameHost(a: string, b: string): boolean {
  const ia = parseIp(a);
  const ib = parseIp(b);
  if (ia && ib) return ia.length === ib.length && ia.every((x, i) => x === ib[i]);
  if (ia || ib) return false;
  return a.toLowerCase().replace(/\.$/, "") === b.toLowerCase().replace(/\.$/, "");
}

/**
 * Applies per-key forwarding limits: `no-port-forwarding` refuses all;
 * `permitopen=` (when present) limits `connect` targets to the listed
 * `host:port` (port `*` = any, host compared literally, no DNS);
 * `permitlisten=` (when present) limits `listen` binds to the listed
 * `[host:]port` (no host = any host, host wildcards allowed; an empty bind
 * host counts as `localhost`).
 *
 * @example
 * ```ts
 * import { restrictionsAllow } from "@alknet/core/auth";
 * const r = { noPortForwarding: false, permitOpen: ["db.internal:5432"] };
 * console.log(restrictionsAllow(r, { kind: "connect", host: "db.internal", port: 5432 })); // true
 * console.log(restrictionsAllow(r, { kind: "connect", host: "db.internal", port: 22 })); // false
 * ```
 */
export function restrictionsAllow(
  restrictions: ForwardRestrictions,
  request: Pick<PolicyRequest, "kind" | "host" | "port">,
): boolean {
  if (restrictions.noPortForwarding) return false;
  if (request.kind === "connect") {
    if (!restrictions.permitOpen) return true;
    return restrictions.permitOpen.some((entry) => {
      const hp = splitHostPort(entry, false);
      if (!hp || hp.host === undefined) return false;
      if (hp.port !== "*" && Number(hp.port) !== request.port) return false;
      return hp.host === "*" || sameHost(hp.host, request.host);
    });
  }
  if (!restrictions.permitListen) return true;
  const bind = request.host === "" ? "localhost" : request.host;
  return restrictions.permitListen.some((entry) => {
    const hp = splitHostPort(entry, true);
    if (!hp) return false;
    if (hp.port !== "*" && Number(hp.port) !== request.port) return false;
    if (hp.host === undefined || hp.host === "*") return true;
    return sameHost(hp.host, bind) || wildcardMatch(hp.host, bind);
  });
}
