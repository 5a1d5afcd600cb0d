// End-to-end: `alknet serve --status` in real headless Chromium (Debian's
// /usr/bin/chromium over the DevTools protocol): the page needs the token,
// shows the node's operations, follows a call made during the test from
// running to completed in the live call graph, fits a phone's width, and
// gives a PNG screenshot.
import assert from "node:assert/strict";
import { connectCall } from "@alknet/call";
import { mintToken, readPrivateKeyFile } from "@alknet/core/auth";
import { keyDir, makeKey, startServe } from "./helpers.ts";
import { Chromium, isPng } from "./status_chromium.ts";

const TOKEN = "status-test-token-0123456789";

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers, redirect: "manual" });
  const body = await res.text();
  return { status: res.status, body, headers: res.headers };
}

Deno.test("status page: token gate, operations, a live call turning completed, phone width, screenshot", async () => {
  const { dir, id } = await keyDir();
  const other = await makeKey(dir, "other");
  await Deno.writeTextFile(
    `${dir}/authorized_keys`,
    `alknet-scopes="flow:read,relay:connect" ${id.publicLine}\n${other.publicLine}\n`,
  );
  const { proc } = await startServe(dir, [
    "--data-dir",
    `${dir}/data`,
    "--status",
    "127.0.0.1:0",
    "--status-token",
    TOKEN,
  ], { listen: ["127.0.0.1:0", "ws://127.0.0.1:0"] });
  let browser: Chromium | undefined;
  const conn = await (async () => {
    const ws = (await proc.waitFor(/listening addr=127\.0\.0\.1:(\d+) transport=ws/))[1];
    return await connectCall(`ws://127.0.0.1:${ws}`, { identity: id.path });
  })();
  try {
    const port = (await proc.waitFor(/status listening addr=127\.0\.0\.1:(\d+)/))[1];
    const base = `http://127.0.0.1:${port}`;

    // Refused without the token (the page, its feed and its pictures), and with a wrong one.
    for (const path of ["/", "/events", "/calls.svg", "/app.js"]) {
      assert.equal((await get(base + path)).status, 401, path);
    }
    assert.equal((await get(`${base}/?token=wrong`)).status, 401);
    assert.equal((await get(base + "/", { authorization: "Bearer wrong" })).status, 401);
    // A node token opens it only with the flow:read scope.
    const mine = mintToken((await readPrivateKeyFile(id.path)).seed!);
    const theirs = mintToken((await readPrivateKeyFile(other.path)).seed!);
    assert.equal((await get(base + "/", { authorization: `Bearer ${theirs}` })).status, 401);
    const byKey = await get(base + "/", { authorization: `Bearer ${mine}` });
    assert.equal(byKey.status, 200);
    // The static page: everything server-rendered (no script needed), no outside URL.
    assert.match(byKey.body, /<svg[\s\S]*node\/ping[\s\S]*<\/svg>/);
    assert.doesNotMatch(byKey.body, /(src|href)="(https?:)?\/\//);
    const redirect = await get(`${base}/?token=${TOKEN}`);
    assert.equal(redirect.status, 303);
    assert.equal(redirect.headers.get("location"), "/");
    assert.match(redirect.headers.get("set-cookie") ?? "", /HttpOnly; SameSite=Strict/);

    const { operations } = await conn.call<{ operations: { name: string }[] }>(
      "services/list",
      {},
    );
    assert.ok(operations.length >= 6);

    browser = await Chromium.launch();
    const page = await browser.newPage();
    // Not yet: the browser is refused too.
    await page.navigate(base + "/");
    assert.match(await page.evaluate<string>("document.body.innerText"), /Token needed/);

    await page.navigate(`${base}/?token=${TOKEN}`);
    assert.equal(await page.evaluate<string>("location.pathname + location.search"), "/");
    const shown = await page.evaluate<string[]>(
      `[...document.querySelectorAll("#ops-list li")].map((li) => li.dataset.op)`,
    );
    const drawn = await page.evaluate<string>(
      `document.querySelector("#ops-graph svg").textContent`,
    );
    for (const o of operations) {
      assert.ok(shown.includes(o.name), `${o.name} listed`);
      assert.ok(drawn.includes(o.name), `${o.name} drawn`);
    }
    await page.waitFor<boolean>(
      `document.getElementById("live-state").textContent.startsWith("live")`,
      "the live feed to connect",
    );

    // A call during the test: a subscription of about 3 s.
    const ticks = (async () => {
      let n = 0;
      for await (const _ of conn.subscribe("node/ticks", { count: 12, interval_ms: 250 })) n++;
      return n;
    })();
    const row = (status: string) =>
      `document.querySelector('#calls-rows tr[data-operation="node/ticks"][data-status="${status}"]') !== null`;
    const box = (status: string) =>
      `[...document.querySelectorAll("#calls-graph g.fg-${status}")].some((g) => g.textContent.includes("node/ticks"))`;
    await page.waitFor<boolean>(`${row("running")} && ${box("running")}`, "node/ticks running");
    assert.equal(await ticks, 12);
    await page.waitFor<boolean>(`${row("completed")} && ${box("completed")}`, "node/ticks done");
    const live = await page.evaluate<string>(`document.getElementById("count-live").textContent`);
    assert.match(live, /^\d+$/);

    // Readable on a phone: nothing wider than the screen but the scrolling pictures.
    await page.send("Emulation.setDeviceMetricsOverride", {
      width: 390,
      height: 844,
      deviceScaleFactor: 1,
      mobile: true,
    });
    await page.navigate(base + "/");
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    assert.ok(width <= 390, `page is ${width}px wide on a 390px screen`);

    const file = `${dir}/status.png`;
    const png = await page.screenshotTo(file);
    const saved = await Deno.readFile(file);
    assert.ok(isPng(saved) && saved.length === png.length && saved.length > 1000);
  } finally {
    await conn.close();
    await browser?.close();
    await proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
