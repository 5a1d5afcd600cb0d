/**
 * `any/<op>` at a head: one entry per operation, built when first called
 * and kept until a worker registers or goes, that tries the live workers
 * offering `<op>` in turn (round-robin), skipping those gone before they
 * answer. Internal to `MeshHead` (not exported by `@alknet/call`).
 *
 * @module
 */

import { accessDenial } from "./access.ts";
import type { Caller } from "./caller.ts";
import type { CallContext } from "./context.ts";
import { CallError } from "./errors.ts";
import { isGone } from "./mesh_forward.ts";
import type { OperationEntry } from "./router.ts";

/** What `any/` needs of a worker. */
export interface AnyWorker {
  readonly name: string;
  readonly connection: Caller;
  readonly ops: ReadonlyMap<string, OperationEntry>;
  readonly gone: boolean;
}

interface Candidate {
  worker: AnyWorker;
  entry: OperationEntry;
}

/**
 * The `any/<op>` entry over `workers` (those offering `op` with the type
 * of the first one), or undefined when none offers it. `live()` tells
 * whether the entry still has a worker whose connection is open.
 */
export function anyRoute(
  op: string,
  workers: Iterable<AnyWorker>,
): { entry: OperationEntry; live(): boolean } | undefined {
  const all: Candidate[] = [];
  for (const worker of workers) {
    const entry = worker.ops.get(`${worker.name}/${op}`);
    if (entry !== undefined) all.push({ worker, entry });
  }
  if (all.length === 0) return undefined;
  const spec = { ...all[0].entry.spec, name: `any/${op}` };
  const candidates = all.filter((c) => c.entry.spec.type === spec.type);
  const n = candidates.length;
  let turn = 0;
  const usable = (c: Candidate, ctx: CallContext) =>
    !c.worker.gone && !c.worker.connection.isClosed &&
    accessDenial(c.entry.spec.access, ctx.identity) === null;
  const noneAnswered = (tried: number) =>
    tried === 0
      ? new CallError("NOT_FOUND", `no such operation: any/${op}`)
      : new CallError("INTERNAL", `no live worker answered any/${op}`);
  const start = () => {
    const s = turn;
    turn = (turn + 1) % n;
    return s;
  };
  /** Runs on the first usable candidate from offset `i`; a gone worker passes it on. */
  const callFrom = (
    first: number,
    i: number,
    tried: number,
    input: unknown,
    ctx: CallContext,
  ): Promise<unknown> => {
    for (; i < n; i++) {
      const c = candidates[(first + i) % n];
      if (!usable(c, ctx)) continue;
      const next = i + 1;
      return Promise.resolve(c.entry.run(input, ctx)).then(undefined, (e) => {
        if (!isGone(e) || ctx.signal.aborted) throw e;
        return callFrom(first, next, tried + 1, input, ctx);
      });
    }
    return Promise.reject(noneAnswered(tried));
  };
  async function* subscribeFrom(first: number, input: unknown, ctx: CallContext) {
    let tried = 0;
    for (let i = 0; i < n; i++) {
      const c = candidates[(first + i) % n];
      if (!usable(c, ctx)) continue;
      tried++;
      let started = false;
      try {
        for await (const item of c.entry.run(input, ctx) as AsyncIterable<unknown>) {
          started = true;
          yield item;
        }
        return;
      } catch (e) {
        if (started || !isGone(e) || ctx.signal.aborted) throw e;
      }
    }
    throw noneAnswered(tried);
  }
  const entry: OperationEntry = {
    ...all[0].entry,
    spec,
    run: spec.type === "subscription"
      ? (input, ctx) => subscribeFrom(start(), input, ctx)
      : (input, ctx) => callFrom(start(), 0, 0, input, ctx),
  };
  return {
    entry,
    live: () => candidates.some((c) => !c.worker.gone && !c.worker.connection.isClosed),
  };
}
