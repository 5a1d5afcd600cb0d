/**
 * What `alknet serve` adds from `@alknet/flowgraph`: the node records its
 * own call graph (bounded; `--no-record-calls` turns it off), serves
 * `flow/operations`, `flow/calls` and `flow/calls-snapshot`, and, with
 * `--status HOST:PORT`, a status page on a listener of its own. This file
 * maps the flags and wires the pieces; `cli/serve.ts` only calls it.
 *
 * @module
 */

import type { NodeServer } from "@alknet/core";
import { parseHostPort } from "@alknet/core/transport";
import type { Identity } from "@alknet/core/auth";
import { accessDenial, type CallContext, type OperationRegistry } from "@alknet/call";
import { CallRecorder, flowOperations, type OperationSpecLike } from "@alknet/flowgraph";
import { UsageError } from "./args.ts";
import { auditReader, type AuditStoreLike } from "./status/audit.ts";
import { startStatusServer, type StatusServer } from "./status/server.ts";

/**
 * The flags `alknet serve` takes for this (spread into its flag table).
 */
export const FLOW_FLAGS = {
  "record-calls": { type: "string" },
  "record-calls-minutes": { type: "string" },
  "no-record-calls": { type: "boolean" },
  status: { type: "string" },
  "status-token": { type: "string" },
  "status-public": { type: "boolean" },
} as const;

/**
 * The values of {@link FLOW_FLAGS} after parsing.
 */
export interface FlowFlagValues {
  /** `--record-calls N`. */
  "record-calls"?: string;
  /** `--record-calls-minutes T`. */
  "record-calls-minutes"?: string;
  /** `--no-record-calls`. */
  "no-record-calls"?: boolean;
  /** `--status HOST:PORT`. */
  status?: string;
  /** `--status-token TOKEN`. */
  "status-token"?: string;
  /** `--status-public`. */
  "status-public"?: boolean;
}

/**
 * Scopes that let a caller watch the node's calls (`flow/calls`) and open
 * the status page with a node token or API key.
 */
export const FLOW_SCOPES: string[] = ["flow:read", "admin:flow"];

/** What the node needs besides `serve()`'s result to start the status page. */
export interface StatusContext {
  /** alknet's version. */
  version: string;
  /** Resolves a token or API key the node accepts (the reloader's identity provider). */
  resolveToken: (token: string) => Identity | null | Promise<Identity | null>;
  /** Logs one event (the node's logger). */
  log: (event: string, fields: Record<string, string | number | undefined>) => void;
  /** The node's store, when it has one: the page shows its audit events. */
  store?: AuditStoreLike;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

function positiveInt(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

/** The specs a caller may list: what `services/list` shows it. */
function visibleSpecs(registry: OperationRegistry, ctx: CallContext): OperationSpecLike[] {
  return registry.list().map((e) => e.spec).filter((s) =>
    s.visibility === "external" && accessDenial(s.access, ctx.identity) === null
  );
}

/**
 * The flow part of `alknet serve`, from its flags: {@link FlowWiring.wire}
 * the registry before `serve()`, {@link FlowWiring.start} the status page
 * after.
 */
export class FlowWiring {
  /** The node's call recorder, or null with `--no-record-calls`. */
  readonly recorder: CallRecorder | null;
  readonly #status?: { hostname: string; port: number };
  readonly #token?: string;
  #registry?: OperationRegistry;

  private constructor(
    recorder: CallRecorder | null,
    status?: { hostname: string; port: number },
    token?: string,
  ) {
    this.recorder = recorder;
    this.#status = status;
    this.#token = token;
  }

  /**
   * Checks the flags ({@link UsageError} for bad values); the status token
   * comes from `--status-token`, else `ALKNET_STATUS_TOKEN`.
   */
  static fromFlags(
    v: FlowFlagValues,
    env: { get(name: string): string | undefined } = Deno.env,
  ): FlowWiring {
    const maxCalls = positiveInt("--record-calls", v["record-calls"]);
    const minutes = positiveInt("--record-calls-minutes", v["record-calls-minutes"]);
    if (v["no-record-calls"] && (maxCalls !== undefined || minutes !== undefined)) {
      throw new UsageError("--no-record-calls cannot be used with --record-calls(-minutes)");
    }
    const recorder = v["no-record-calls"] ? null : new CallRecorder({
      maxCalls: maxCalls ?? 10_000,
      maxAgeMs: (minutes ?? 10) * 60_000,
    });
    if (v.status === undefined) {
      if (v["status-token"] !== undefined || v["status-public"]) {
        throw new UsageError("--status-token and --status-public need --status HOST:PORT");
      }
      return new FlowWiring(recorder);
    }
    let hp: { host: string; port: number };
    try {
      hp = parseHostPort(v.status, "127.0.0.1");
    } catch (e) {
      throw new UsageError(`--status: ${(e as Error).message}`);
    }
    if (!LOOPBACK.test(hp.host) && !v["status-public"]) {
      throw new UsageError(
        `--status ${v.status} is not a loopback address; add --status-public to serve the status page there`,
      );
    }
    const token = v["status-token"] ?? env.get("ALKNET_STATUS_TOKEN") ?? undefined;
    return new FlowWiring(recorder, { hostname: hp.host, port: hp.port }, token || undefined);
  }

  /** Records the registry's calls and registers the `flow/*` operations on it. */
  wire<R extends OperationRegistry>(registry: R): R {
    this.#registry = registry;
    if (this.recorder !== null) registry.observer = this.recorder.observer;
    const ops = flowOperations(
      this.recorder,
      (ctx: CallContext) => visibleSpecs(registry, ctx),
      { callsScopes: FLOW_SCOPES },
    );
    for (const op of ops) registry.register(op);
    return registry;
  }

  /** Starts the status page when `--status` was given (after `serve()`); logs where. */
  start(node: NodeServer, ctx: StatusContext): StatusServer | undefined {
    if (this.#status === undefined) return undefined;
    const registry = this.#registry;
    const startedAt = Date.now();
    const status = startStatusServer({
      hostname: this.#status.hostname,
      port: this.#status.port,
      node: {
        version: ctx.version,
        hostKeyFingerprint: node.hostKeyFingerprint,
        get tlsFingerprint() {
          return node.tlsFingerprint;
        },
        startedAt,
        listening: node.listening,
        sessions: () => node.ssh.connectionCount,
      },
      specs: () => registry?.list().map((e) => e.spec) ?? [],
      recorder: this.recorder,
      gate: {
        token: this.#token,
        authorize: async (token) => {
          const who = await ctx.resolveToken(token);
          return who !== null && accessDenial({ scopes_any: FLOW_SCOPES }, who) === null;
        },
      },
      audit: auditReader({ store: ctx.store, registry }),
    });
    ctx.log("status listening", {
      addr: `${status.url.slice(7, -1)}`,
      token: this.#token !== undefined ? "status-token" : "node-keys",
    });
    return status;
  }
}
