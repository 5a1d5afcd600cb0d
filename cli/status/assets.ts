/**
 * The status page's stylesheet and script, served by the node itself (no
 * build step, nothing fetched from elsewhere). The page works without the
 * script; with it, counts, the call graph and the recent calls follow the
 * node live over server-sent events.
 *
 * @module
 */

/**
 * `/style.css`: readable on a phone (one column, pictures scroll sideways),
 * two columns on wide screens, colours of the call statuses.
 */
export const STATUS_CSS: string = `
:root { color-scheme: light; --fg: #1b1f23; --muted: #5f6b76; --line: #d8dee4; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header { padding: 12px 16px; background: #24292f; color: #fff; }
header h1 { margin: 0; font-size: 1.2rem; }
header p { margin: 2px 0 0; color: #c9d1d9; font-size: .85rem; overflow-wrap: anywhere; }
main { display: grid; gap: 12px; padding: 12px; grid-template-columns: 1fr; max-width: 1400px;
  margin: 0 auto; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  min-width: 0; }
h2 { margin: 0 0 8px; font-size: 1.05rem; }
h2 small { color: var(--muted); font-weight: normal; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0 0 8px; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
code { font: .85rem ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
ul { margin: 0; padding-left: 18px; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; }
.count { flex: 1 1 120px; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.count .n { display: block; font-size: 1.6rem; font-weight: 600; }
.count .l { color: var(--muted); font-size: .85rem; }
.note { color: var(--muted); font-size: .85rem; margin: 6px 0 0; }
.graph { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff;
  margin: 6px 0; }
.graph svg { display: block; max-width: 100%; height: auto; }
.ops { columns: 2 220px; font-size: .9rem; }
.ops li { break-inside: avoid; }
.type { color: var(--muted); font-size: .8rem; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line);
  overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: normal; }
.st { display: inline-block; padding: 0 6px; border-radius: 4px; border: 1px solid; }
.st-pending { background: #eeeeee; border-color: #757575; }
.st-running { background: #bbdefb; border-color: #1565c0; }
.st-completed { background: #c8e6c9; border-color: #2e7d32; }
.st-failed { background: #ffcdd2; border-color: #c62828; }
.st-aborted { background: #ffe0b2; border-color: #ef6c00; }
.legend { display: flex; flex-wrap: wrap; gap: 6px; font-size: .8rem; }
@media (min-width: 900px) {
  main { grid-template-columns: 1fr 1fr; }
  #operations, #calls { grid-column: 1 / -1; }
}
`;

/**
 * `/app.js`: follows `/events` (server-sent events, `state` messages) and
 * updates the counts, the call graph picture and the recent-calls table.
 * Text goes in as text; the picture is SVG the node rendered.
 */
export const STATUS_JS: string = `"use strict";
(function () {
  var stateEl = document.getElementById("live-state");
  function say(text) { if (stateEl) stateEl.textContent = text; }
  function setCount(id, n) { var el = document.getElementById(id); if (el) el.textContent = String(n); }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { var s = document.createElement("span"); s.className = cls; s.textContent = text; td.appendChild(s); }
    else td.textContent = text;
    tr.appendChild(td);
  }
  function rows(calls) {
    var body = document.getElementById("calls-rows");
    if (!body) return;
    var out = [];
    for (var i = 0; i < calls.length; i++) {
      var c = calls[i];
      var tr = document.createElement("tr");
      tr.setAttribute("data-call", c.id);
      tr.setAttribute("data-operation", c.operation);
      tr.setAttribute("data-status", c.status);
      cell(tr, (c.child ? "\\u21b3 " : "") + c.operation);
      cell(tr, c.status, "st st-" + c.status);
      cell(tr, c.duration);
      cell(tr, c.code || "");
      out.push(tr);
    }
    body.replaceChildren.apply(body, out);
    var empty = document.getElementById("calls-empty");
    if (empty) empty.hidden = calls.length > 0;
  }
  function picture(svg) {
    var box = document.getElementById("calls-graph");
    if (!box || !svg) return;
    var doc = new DOMParser().parseFromString(svg, "image/svg+xml");
    var root = doc.documentElement;
    if (!root || root.nodeName !== "svg") return;
    box.replaceChildren(document.importNode(root, true));
  }
  if (!("EventSource" in window)) return;
  var events = new EventSource("/events");
  events.addEventListener("open", function () { say("live"); });
  events.addEventListener("error", function () { say("reconnecting\\u2026"); });
  events.addEventListener("state", function (e) {
    var s;
    try { s = JSON.parse(e.data); } catch (_) { return; }
    setCount("count-sessions", s.counts.sessions);
    setCount("count-live", s.counts.live);
    setCount("count-recorded", s.counts.recorded);
    setCount("count-events", s.counts.events);
    rows(s.calls);
    picture(s.svg);
    say("live \\u00b7 updated " + new Date(s.at).toLocaleTimeString());
    document.body.setAttribute("data-updated", String(s.at));
  });
})();
`;
