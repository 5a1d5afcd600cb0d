/**
 * What a call passes before it runs and what it reports: the checks of an
 * entry (visibility from the wire, the expected kind, access), the mapping
 * of what running it failed with to the error answered, and its steps for
 * a router's observer. Shared by the dispatcher (`dispatch.ts`) and the
 * relay of a mesh head (`relay.ts`).
 *
 * @module
 */

import { accessDenial, type Principal } from "./access.ts";
import { CallError, isProtocolErrorCode } from "./errors.ts";
import type { ExpectedKind } from "./request.ts";
import type { CallEvent, CallObserver, OperationEntry } from "./router.ts";

type EventType = CallEvent["type"];

/**
 * An observer function may carry this property (`Symbol.for`, so that a
 * recorder needs no import of this package): a function taking the event's
 * fields one by one, `(type, id, operation, at, parentId, code, origin)`,
 * which the dispatcher then calls instead of building an event object per
 * step. `origin` is the call's request object: the same for every event of
 * one call, so that a recorder can tell two calls apart that share an id
 * (callers choose ids: two connections' calls may).
 * `@alknet/flowgraph`'s `CallRecorder.observer` has one.
 */
const STEP: unique symbol = Symbol.for("alknet.call.step") as never;

/** The positional form of a {@link CallObserver} (see {@link STEP}). */
type StepObserver = (
  type: EventType,
  id: string,
  operation: string,
  at: number,
  parentId: string | undefined,
  code: string | undefined,
  origin: object,
) => void;

/**
 * Tells `observer` that call `id` of `operation` (whose request object is
 * `origin`) reached `type` at `at` (epoch ms), with the code of `err` when
 * it is a `CallError`; what the observer throws is ignored.
 */
export function emitStep(
  observer: CallObserver,
  type: EventType,
  id: string,
  operation: string,
  at: number,
  parentId: string | undefined,
  err: unknown,
  origin: object,
): void {
  try {
    const step = (observer as { [STEP]?: StepObserver })[STEP];
    if (step !== undefined) {
      const code = err instanceof CallError ? err.code : undefined;
      step(type, id, operation, at, parentId, code, origin);
      return;
    }
    const event: CallEvent = { type, id, operation, at };
    if (parentId !== undefined) event.parentId = parentId;
    if (err instanceof CallError) event.code = err.code;
    observer(event);
  } catch {
    // an observer must not break calls
  }
}

/**
 * The error answered for what running `entry` failed with (not an abort):
 * a declared `CallError` as it is (its declared `retryable`), a protocol
 * code as it is, an undeclared code or details that do not match their
 * schema as `INTERNAL`, anything else as `INTERNAL`.
 */
export function mapRunError(entry: OperationEntry, err: unknown): CallError {
  const name = entry.spec.name;
  if (err instanceof CallError) {
    if (isProtocolErrorCode(err.code)) return err;
    const check = entry.checkError(err.code, err.details);
    if (check === undefined) {
      return new CallError("INTERNAL", `${name} answered the undeclared error code ${err.code}`, {
        details: { original_code: err.code, original_message: err.message },
        cause: err,
      });
    }
    if (check !== null) {
      return new CallError(
        "INTERNAL",
        `${name} answered ${err.code} with details that do not match its schema`,
        {
          details: { original_code: err.code, errors: check },
          cause: err,
        },
      );
    }
    const declared = entry.spec.errors.find((e) => e.code === err.code);
    if (declared?.retryable !== undefined && declared.retryable !== err.retryable) {
      return new CallError(err.code, err.message, {
        retryable: declared.retryable,
        details: err.details,
      });
    }
    return err;
  }
  return new CallError("INTERNAL", `internal error in ${name}`, { cause: err });
}

/**
 * The checks of `entry` before its input: internal from the wire
 * (NOT_FOUND), the kind the caller expects (INVALID_OPERATION_TYPE), access
 * (FORBIDDEN). Throws the {@link CallError} of the first that fails.
 */
export function checkEntry(
  entry: OperationEntry,
  name: string,
  fromWire: boolean,
  expect: ExpectedKind | undefined,
  principal: Principal | null,
): void {
  const spec = entry.spec;
  if (fromWire && spec.visibility === "internal") {
    throw new CallError("NOT_FOUND", `no such operation: ${name}`);
  }
  const isSub = spec.type === "subscription";
  if (expect !== undefined && (expect === "subscription") !== isSub) {
    throw new CallError(
      "INVALID_OPERATION_TYPE",
      isSub ? `${name} is a subscription: subscribe to it` : `${name} is a ${spec.type}: call it`,
    );
  }
  const access = spec.access;
  if (
    access.scopes_all !== undefined || access.scopes_any !== undefined ||
    access.resource_type !== undefined
  ) {
    const denial = accessDenial(access, principal);
    if (denial !== null) throw new CallError("FORBIDDEN", `${name} ${denial}`);
  }
}
