/**
 * In-process calls: {@link invokeOperation} and {@link subscribeOperation}
 * run an operation through a router with the same checks as a call from
 * the wire (internal operations are reachable), for `registry.invoke` and
 * `env.invoke`.
 *
 * @module
 */

import { startOperation } from "./dispatch.ts";
import { lazyIterable, linkChild, withCleanup } from "./handler_context.ts";
import type { DispatchRequest, ExpectedKind } from "./request.ts";
import type { LocalInvokeOptions, OperationRouter } from "./router.ts";
import { newCallId } from "./wire.ts";

function topLevel(
  router: OperationRouter,
  name: string,
  input: unknown,
  options: LocalInvokeOptions,
  expect: ExpectedKind,
) {
  const identity = options.identity ?? null;
  const { controller, unlink } = linkChild(undefined, "abort-dependents", options.signal);
  const req: DispatchRequest = {
    router,
    name,
    input,
    requestId: newCallId(),
    identity,
    principal: identity,
    fromWire: false,
    controller,
    timeoutMs: options.timeoutMs,
    peer: options.peer,
    expect,
  };
  return { req, unlink, controller };
}

/**
 * Calls a query or mutation through `router` in-process.
 *
 * @example
 * ```ts
 * import { invokeOperation, OperationRegistry } from "@alknet/call";
 * const reg = new OperationRegistry();
 * reg.register({ name: "demo/one", type: "query", handler: () => 1 });
 * console.log(await invokeOperation(reg, "demo/one", null)); // 1
 * ```
 */
export function invokeOperation(
  router: OperationRouter,
  name: string,
  input: unknown,
  options: LocalInvokeOptions = {},
): Promise<unknown> {
  let r;
  try {
    r = topLevel(router, name, input, options, "call");
    const started = startOperation(r.req) as { result: Promise<unknown> };
    return started.result.finally(r.unlink);
  } catch (e) {
    r?.unlink();
    return Promise.reject(e);
  }
}

/**
 * Starts a subscription through `router` in-process.
 *
 * @example
 * ```ts
 * import { OperationRegistry, subscribeOperation } from "@alknet/call";
 * const reg = new OperationRegistry();
 * reg.register({ name: "demo/two", type: "subscription", subscribe: async function* () { yield 1; yield 2; } });
 * for await (const x of subscribeOperation(reg, "demo/two", null)) console.log(x);
 * ```
 */
export function subscribeOperation(
  router: OperationRouter,
  name: string,
  input: unknown,
  options: LocalInvokeOptions = {},
): AsyncIterable<unknown> {
  return lazyIterable(() => {
    const r = topLevel(router, name, input, options, "subscription");
    try {
      const started = startOperation(r.req) as { items: AsyncIterator<unknown> };
      return withCleanup(started.items, r.unlink, r.controller);
    } catch (e) {
      r.unlink();
      throw e;
    }
  });
}
