/**
 * What a running handler gets: its {@link CallContext} and the scoped
 * environment behind `ctx.env`, through which it starts child calls with
 * the inherited deadline and the abort cascade. Also the small iterator and
 * signal helpers in-process calls share.
 *
 * @module
 */

import type { Identity } from "./access.ts";
import type { Caller } from "./caller.ts";
import type { CallContext, ChildPolicy, InvokeOptions, ScopedEnv } from "./context.ts";
import { CallError } from "./errors.ts";
import {
  CallControl,
  type DispatchRequest,
  type ExpectedKind,
  type StartOperation,
} from "./request.ts";
import { allowed, type OperationEntry, type OperationRouter } from "./router.ts";
import type { OperationSpec, PeerInfo } from "./spec.ts";
import { newCallId } from "./wire.ts";

/** The context of one running call (what a handler receives as `ctx`). */
export class HandlerContext implements CallContext {
  readonly requestId: string;
  readonly parentId?: string;
  readonly operation: string;
  readonly identity: Identity | null;
  readonly forwardedFor?: string;
  readonly deadline?: number;
  readonly capabilities: Readonly<Record<string, unknown>>;
  readonly connection?: Caller;
  #req: DispatchRequest;
  #entry: OperationEntry;
  #start: StartOperation;
  #env: ScopedEnv | undefined;

  constructor(
    req: DispatchRequest,
    entry: OperationEntry,
    deadline: number | undefined,
    start: StartOperation,
  ) {
    this.requestId = req.requestId;
    if (req.parentId !== undefined) this.parentId = req.parentId;
    this.operation = req.name;
    this.identity = req.identity;
    if (req.forwardedFor !== undefined) this.forwardedFor = req.forwardedFor;
    if (deadline !== undefined) this.deadline = deadline;
    this.capabilities = entry.capabilities;
    if (req.connection !== undefined) this.connection = req.connection;
    this.#req = req;
    this.#entry = entry;
    this.#start = start;
  }

  /** Aborted when the call is (made when first read: most handlers never look). */
  get signal(): AbortSignal {
    return this.#req.controller.signal;
  }

  get env(): ScopedEnv {
    return this.#env ??= new Env(this.#req.router, this.#entry, this, this.#start);
  }

  /** The call's abort state, for the child calls its environment starts. */
  get control(): CallControl {
    return this.#req.controller;
  }
}

/** Links a child's control to its parent's and an optional extra signal. */
export function linkChild(
  parent: CallControl | undefined,
  policy: ChildPolicy,
  extra: AbortSignal | undefined,
): { controller: CallControl; unlink: () => void } {
  const controller = new CallControl();
  let unlinkParent: (() => void) | undefined;
  let unlinkExtra: (() => void) | undefined;
  if (parent && policy === "abort-dependents") {
    unlinkParent = parent.link((reason) => controller.abort(reason));
  }
  if (extra) {
    if (extra.aborted) {
      controller.abort(extra.reason);
    } else {
      const f = () => controller.abort(extra.reason);
      extra.addEventListener("abort", f, { once: true });
      unlinkExtra = () => extra.removeEventListener("abort", f);
    }
  }
  return {
    controller,
    unlink: () => {
      unlinkParent?.();
      unlinkExtra?.();
    },
  };
}

class Env implements ScopedEnv {
  #router: OperationRouter;
  #entry: OperationEntry;
  #ctx: HandlerContext;
  #start: StartOperation;

  constructor(
    router: OperationRouter,
    entry: OperationEntry,
    ctx: HandlerContext,
    start: StartOperation,
  ) {
    this.#router = router;
    this.#entry = entry;
    this.#ctx = ctx;
    this.#start = start;
  }

  #request(name: string, input: unknown, options: InvokeOptions, expect: ExpectedKind) {
    const entry = this.#entry;
    if (!allowed(entry.allow, name)) {
      throw new CallError(
        "FORBIDDEN",
        `${entry.spec.name} may not call ${name}: not in its allow list`,
      );
    }
    const ctx = this.#ctx;
    const policy = options.onParentAbort ?? entry.childPolicy;
    const { controller, unlink } = linkChild(ctx.control, policy, options.signal);
    const req: DispatchRequest = {
      router: this.#router,
      name,
      input,
      requestId: newCallId(),
      parentId: ctx.requestId,
      identity: ctx.identity,
      principal: entry.authority ?? ctx.identity,
      fromWire: false,
      forwardedFor: ctx.forwardedFor,
      controller,
      timeoutMs: options.timeoutMs,
      inheritedDeadline: ctx.deadline,
      peer: options.peer,
      expect,
    };
    return { req, unlink, controller };
  }

  invoke(name: string, input: unknown, options: InvokeOptions = {}): Promise<unknown> {
    let r;
    try {
      r = this.#request(name, input, options, "call");
      const started = this.#start(r.req);
      const { unlink } = r;
      return (started as { result: Promise<unknown> }).result.finally(unlink);
    } catch (e) {
      r?.unlink();
      return Promise.reject(e);
    }
  }

  subscribe(name: string, input: unknown, options: InvokeOptions = {}): AsyncIterable<unknown> {
    return lazyIterable(() => {
      const r = this.#request(name, input, options, "subscription");
      try {
        const started = this.#start(r.req);
        return withCleanup(
          (started as { items: AsyncIterator<unknown> }).items,
          r.unlink,
          r.controller,
        );
      } catch (e) {
        r.unlink();
        throw e;
      }
    });
  }

  list(): OperationSpec[] {
    return this.#router.list().map((e) => e.spec);
  }

  peers(): PeerInfo[] {
    return this.#router.peers();
  }
}

/** An iterator that runs `cleanup` once and aborts `controller` when the consumer stops early. */
export function withCleanup(
  it: AsyncIterator<unknown>,
  cleanup: () => void,
  controller: CallControl,
): AsyncIterator<unknown> {
  let done = false;
  const end = () => {
    if (!done) {
      done = true;
      cleanup();
    }
  };
  return {
    async next() {
      try {
        const r = await it.next();
        if (r.done) end();
        return r;
      } catch (e) {
        end();
        throw e;
      }
    },
    async return() {
      if (!done) {
        controller.abort(new DOMException("subscription cancelled by its consumer", "AbortError"));
      }
      end();
      await it.return?.();
      return { done: true, value: undefined };
    },
  };
}

/** An iterable that starts its iterator on first use; a start that throws fails the first `next`. */
export function lazyIterable(start: () => AsyncIterator<unknown>): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      let it: AsyncIterator<unknown> | undefined;
      let failed: unknown;
      try {
        it = start();
      } catch (e) {
        failed = e;
      }
      return {
        next: () => (it ? it.next() : Promise.reject(failed)),
        return:
          () => (it?.return ? it.return() : Promise.resolve({ done: true, value: undefined })),
      };
    },
  };
}
