/**
 * The status page's HTML, rendered on the server: everything static is in
 * it (node facts, counts, both pictures as inline SVG, the recent calls and
 * audit events), so it reads without JavaScript; `/app.js` then keeps the
 * live parts current.
 *
 * @module
 */

import type { OperationSpecLike } from "@alknet/flowgraph";
import type { AuditRow } from "./audit.ts";
import type { CallRow, LiveState, StatusNode } from "./model.ts";

/**
 * Everything one page shows.
 */
export interface PageView {
  /** The node. */
  node: StatusNode;
  /** Counts, recent calls and the call graph picture. */
  live: LiveState;
  /** False when the node does not record its calls. */
  recording: boolean;
  /** The operations, sorted by name. */
  operations: OperationSpecLike[];
  /** The operation graph picture. */
  operationsSvg: string;
  /** The latest audit events, or null when the node has no store. */
  audit: AuditRow[] | null;
  /** Why the audit events could not be read, when that failed. */
  auditError?: string;
}

/**
 * Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
 */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

const e = escapeHtml;

/** An SVG document as an inline element: the XML prolog and doctype dropped. */
function inlineSvg(svg: string): string {
  const start = svg.indexOf("<svg");
  return start < 0 ? "" : svg.slice(start);
}

function callRows(calls: CallRow[]): string {
  return calls.map((c) =>
    `<tr data-call="${e(c.id)}" data-operation="${e(c.operation)}" data-status="${e(c.status)}">` +
    `<td>${c.child ? "↳ " : ""}${e(c.operation)}</td>` +
    `<td><span class="st st-${e(c.status)}">${e(c.status)}</span></td>` +
    `<td>${e(c.duration)}</td><td>${e(c.code ?? "")}</td></tr>`
  ).join("\n");
}

function count(id: string, n: number, label: string): string {
  return `<div class="count"><span class="n" id="${id}">${n}</span>` +
    `<span class="l">${e(label)}</span></div>`;
}

function nodeSection(node: StatusNode): string {
  const listeners = node.listening.map((l) =>
    `<li><code>${e(l.address)}</code> <span class="type">${e(l.transport)}</span></li>`
  ).join("\n");
  return `<section id="node"><h2>Node</h2><dl>
<dt>version</dt><dd>${e(node.version)}</dd>
<dt>host key</dt><dd><code>${e(node.hostKeyFingerprint)}</code></dd>
${
    node.tlsFingerprint === undefined
      ? ""
      : `<dt>TLS</dt><dd><code>${e(node.tlsFingerprint)}</code></dd>`
  }
<dt>started</dt><dd>${e(new Date(node.startedAt).toISOString())}</dd>
</dl><h3>Listeners</h3><ul id="listeners">${listeners}</ul></section>`;
}

function countsSection(v: PageView): string {
  const c = v.live.counts;
  return `<section id="counts"><h2>Now</h2><div class="counts">
${count("count-sessions", c.sessions, "SSH sessions")}
${count("count-live", c.live, "calls running")}
${count("count-recorded", c.recorded, "calls recorded")}
${count("count-events", c.events, "call events")}
</div><p class="note" id="live-state">as of ${
    e(new Date(v.live.at).toISOString())
  } · reload for news (live updates need JavaScript)</p></section>`;
}

function operationsSection(v: PageView): string {
  const items = v.operations.map((o) =>
    `<li data-op="${e(o.name)}"><code>${e(o.name)}</code> <span class="type">${
      e(o.type ?? "")
    }</span></li>`
  ).join("\n");
  return `<section id="operations"><h2>Operations <small>(${v.operations.length})</small></h2>
<p class="note">An arrow A → B: A's output fits B's input (dashed red: shares fields but does not fit).</p>
<div class="graph" id="ops-graph">${inlineSvg(v.operationsSvg)}</div>
<ul class="ops" id="ops-list">${items}</ul></section>`;
}

function callsSection(v: PageView): string {
  if (!v.recording) {
    return `<section id="calls"><h2>Calls</h2>
<p class="note">This node does not record its calls (started with --no-record-calls).</p></section>`;
  }
  const legend = ["pending", "running", "completed", "failed", "aborted"]
    .map((s) => `<span class="st st-${s}">${s}</span>`).join(" ");
  return `<section id="calls"><h2>Calls</h2><div class="legend">${legend}</div>
<div class="graph" id="calls-graph">${inlineSvg(v.live.svg)}</div>
<table><thead><tr><th>operation</th><th>status</th><th>time</th><th>error</th></tr></thead>
<tbody id="calls-rows">${callRows(v.live.calls)}</tbody></table>
<p class="note" id="calls-empty"${v.live.calls.length > 0 ? " hidden" : ""}>No calls yet.</p>
</section>`;
}

function auditSection(v: PageView): string {
  if (v.audit === null) {
    return `<section id="audit"><h2>Audit events</h2>
<p class="note" id="audit-none">No store: this node keeps no audit trail.</p></section>`;
  }
  const rows = v.audit.map((a) =>
    `<tr><td>${a.seq}</td><td>${e(new Date(a.at).toISOString())}</td><td>${e(a.type)}</td>` +
    `<td><code>${e(a.who ?? "")}</code></td></tr>`
  ).join("\n");
  const error = v.auditError === undefined
    ? ""
    : `<p class="note">Could not read the audit events: ${e(v.auditError)}</p>`;
  return `<section id="audit"><h2>Audit events</h2>${error}
<table><thead><tr><th>#</th><th>when</th><th>event</th><th>who</th></tr></thead>
<tbody id="audit-rows">${rows}</tbody></table>
${v.audit.length === 0 && error === "" ? '<p class="note">No events yet.</p>' : ""}</section>`;
}

/**
 * The whole page.
 */
export function renderPage(v: PageView): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alknet node status</title>
<link rel="stylesheet" href="/style.css"><script src="/app.js" defer></script>
</head><body>
<header><h1>alknet node</h1><p>${e(v.node.hostKeyFingerprint)}</p></header>
<main>
${nodeSection(v.node)}
${countsSection(v)}
${operationsSection(v)}
${callsSection(v)}
${auditSection(v)}
</main></body></html>
`;
}

/**
 * The answer without a valid token: what to do, and a form to paste the
 * token into (it works without JavaScript).
 */
export function renderRefused(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alknet node status: token needed</title></head><body>
<h1>Token needed</h1>
<p>This status page needs the status token (<code>--status-token</code>,
<code>ALKNET_STATUS_TOKEN</code>) or a token or API key the node accepts with the
<code>flow:read</code> scope.</p>
<form method="get" action="/"><label>Token <input name="token" type="password"
autocomplete="off" required></label> <button type="submit">Open</button></form>
</body></html>
`;
}
