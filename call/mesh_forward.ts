/**
 * How a head forwards to its workers: the worker's operations imported
 * once at registration ({@link importWorkerOperations}) as entries that
 * each forward a call with one `call`/`subscribe` on the worker's
 * connection (a query or mutation from the wire is relayed instead,
 * `relay.ts`), and the errors that mean "the worker is gone". Internal to
 * `MeshHead` (not exported by `@alknet/call`).
 *
 * @module
 */

import type { AccessSpec } from "./access.ts";
import type { AbortLink, Caller, CallOptions } from "./caller.ts";
import { CallConnection, relayPortOf } from "./connection.ts";
import type { CallContext } from "./context.ts";
import type { ServiceList } from "./discovery.ts";
import { CallError, ConnectionClosedError } from "./errors.ts";
import { setRelayLink } from "./relay.ts";
import type { OperationEntry } from "./router.ts";
import type { OperationSpec } from "./spec.ts";

/**
 * What a worker's in-flight calls fail with when its connection closes:
 * `INTERNAL` "worker NAME gone" (`details.worker` names it).
 *
 * @example
 * ```ts
 * import { WorkerGoneError } from "@alknet/call";
 * const e = new WorkerGoneError("w1");
 * console.log(e.code, e.message, e.worker); // "INTERNAL" "worker w1 gone" "w1"
 * ```
 */
export class WorkerGoneError extends CallError {
  /** The worker's name. */
  readonly worker: string;

  /** The error for worker `worker`. */
  constructor(worker: string, options: { cause?: unknown } = {}) {
    super("INTERNAL", `worker ${worker} gone`, { details: { worker }, cause: options.cause });
    this.name = "WorkerGoneError";
    this.worker = worker;
  }
}

/** True for the errors of a worker that went before it answered. */
export function isGone(e: unknown): boolean {
  return e instanceof WorkerGoneError || e instanceof ConnectionClosedError;
}

const FROZEN_EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});
const NO_NAMES: readonly string[] = Object.freeze([]);

/**
 * The head's entries for a worker's operations: `NAME/<op>` for each
 * external operation its `services/list` shows the head, but `services/*`
 * and `mesh/*`. Schemas are fetched once, here; a call through an entry
 * costs one `call` (or `subscribe`) on `connection` and nothing else that
 * is per call but its options (no input validation: the worker validates
 * with its own schema; no output validation: likewise). A query or
 * mutation from the wire over a `CallConnection` is relayed to the worker
 * without being dispatched (`relay.ts`).
 */
export async function importWorkerOperations(
  connection: Caller,
  name: string,
  access: AccessSpec | undefined,
): Promise<Map<string, OperationEntry>> {
  const { operations } = await connection.call<ServiceList>("services/list", {});
  const wanted = operations.filter((o) =>
    !o.name.startsWith("services/") && !o.name.startsWith("mesh/")
  );
  const specs = await Promise.all(
    wanted.map((o) => connection.call<OperationSpec>("services/schema", { name: o.name })),
  );
  const gone = (e: unknown): never => {
    throw e instanceof ConnectionClosedError ? new WorkerGoneError(name, { cause: e }) : e;
  };
  const ops = new Map<string, OperationEntry>();
  for (const remote of specs) {
    const entry = workerEntry(connection, name, remote, access, gone);
    ops.set(entry.spec.name, entry);
  }
  return ops;
}

/**
 * The worker call's options: the caller's deadline, `forwarded_for`, and
 * its abort, through the running call's control when the dispatcher gave
 * one (no `AbortSignal` made per forwarded call), else its signal.
 */
function forwardOptions(ctx: CallContext): CallOptions {
  const control = (ctx as { control?: AbortLink }).control;
  const forwardedFor = ctx.forwardedFor ?? ctx.identity?.id;
  return control !== undefined
    ? { abort: control, deadline: ctx.deadline, forwardedFor }
    : { signal: ctx.signal, deadline: ctx.deadline, forwardedFor };
}

function workerEntry(
  connection: Caller,
  worker: string,
  remote: OperationSpec,
  access: AccessSpec | undefined,
  gone: (e: unknown) => never,
): OperationEntry {
  const spec: OperationSpec = {
    ...remote,
    name: `${worker}/${remote.name}`,
    visibility: "external",
    errors: remote.errors ?? [],
    access: access ?? remote.access ?? {},
  };
  const declared = new Set(spec.errors.map((e) => e.code));
  const remoteName = remote.name;
  const run = spec.type === "subscription"
    ? (input: unknown, ctx: CallContext) =>
      goneItems(connection.subscribe(remoteName, input, forwardOptions(ctx)), gone)
    : (input: unknown, ctx: CallContext) =>
      connection.call(remoteName, input, forwardOptions(ctx)).then(undefined, gone);
  const entry: OperationEntry = {
    spec,
    peer: worker,
    allow: NO_NAMES,
    capabilities: FROZEN_EMPTY,
    childPolicy: "abort-dependents",
    validateInput: () => null, // the worker validates against its own schema
    checkError: (code) => (declared.has(code) ? null : undefined),
    run,
  };
  // Calls from the wire to this entry are relayed, not dispatched (call/relay.ts).
  if (spec.type !== "subscription" && connection instanceof CallConnection) {
    setRelayLink(entry, {
      connection: relayPortOf(connection),
      name: remoteName,
      lostError: (cause) => new WorkerGoneError(worker, { cause }),
    });
  }
  return entry;
}

/**
 * The items of a worker's subscription as they arrive (nothing buffered
 * here), with connection loss turned into {@link WorkerGoneError}.
 */
function goneItems(
  items: AsyncIterable<unknown>,
  gone: (e: unknown) => never,
): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      const it = items[Symbol.asyncIterator]();
      return {
        next: () => it.next().then(undefined, gone),
        return: (v?: unknown) =>
          it.return ? it.return(v) : Promise.resolve({ done: true as const, value: undefined }),
      };
    },
  };
}
