// Waits and actions on the browser test's page (world.mjs): until something shows, a change
// made from outside and timed, the page's forms submitted, atone restarted under it.
import assert from "node:assert/strict";
import { LIVE_MS, atone, loaded, page, requests, timings } from "./world.mjs";
/** Waits (polling every 10 ms) until fn(arg) is truthy in page p; returns ms waited. */
export async function untilOn(p, what, fn, arg, timeoutMs = LIVE_MS, since = Date.now()) {
  try {
    await p.waitForFunction(fn, arg, { timeout: Math.max(1, timeoutMs - (Date.now() - since)), polling: 10 });
  } catch (err) {
    throw new Error(`${what}: not on the page within ${timeoutMs} ms (${err.message.split("\n")[0]})`);
  }
  return Date.now() - since;
}

/** The same, in the test's main page. */
export const until = (what, fn, arg, timeoutMs = LIVE_MS, since = Date.now()) => untilOn(page, what, fn, arg, timeoutMs, since);

export const text = (testid) => page.locator(`[data-testid="${testid}"]`).first().innerText();

/** A function (timeoutMs, since) waiting until the element matching sel has attrs (text: contains). */
export function rowIs(sel, attrs) {
  return (timeoutMs = LIVE_MS, since = Date.now()) => until(
    `${sel} ${JSON.stringify(attrs)}`,
    ({ sel, attrs }) => {
      const el = document.querySelector(sel);
      if (!el) return false;
      return Object.entries(attrs).every(([k, v]) =>
        k === "text" ? el.textContent.includes(v) : el.getAttribute(k) === v,
      );
    },
    { sel, attrs },
    timeoutMs,
    since,
  );
}

/** Runs a command from outside the page and measures until the page shows its effect. */
export async function outside(label, method, body, appears) {
  const t0 = Date.now();
  const reply = await atone.grpc(method, body);
  const replyMs = Date.now() - t0;
  const totalMs = await appears(reply, t0);
  const afterReplyMs = totalMs - replyMs;
  timings.push({ change: label, commandReplyMs: replyMs, onPageAfterReplyMs: afterReplyMs, onPageAfterSendMs: totalMs });
  console.log(`  ${label}: grpcurl reply ${replyMs} ms; on the page ${afterReplyMs} ms after the reply (${totalMs} ms after sending)`);
  return reply;
}

/** The page was not reloaded since its first load (markLoaded). */
export async function assertNotReloaded() {
  const state = await page.evaluate(() => ({ marker: window.__atoneTestMarker, origin: performance.timeOrigin }));
  assert.equal(state.marker, "set-by-test", "the page was reloaded (the marker set on window is gone)");
  assert.equal(state.origin, loaded.timeOrigin, "the page was reloaded (performance.timeOrigin changed)");
  const documents = requests.filter((r) => r.method === "GET" && !r.path.startsWith("/assets/"));
  assert.equal(documents.length, 1, `the document was requested ${documents.length} times`);
}

/** Marks the page after its first load, so that assertNotReloaded can tell a reload. */
export async function markLoaded() {
  await page.evaluate(() => {
    window.__atoneTestMarker = "set-by-test";
  });
  loaded.timeOrigin = await page.evaluate(() => performance.timeOrigin);
}

export const yen = (n) => `¥${n.toLocaleString("en-US")}`;

/** Buys through the page's purchase form; returns the new row's { promiseId, orderId, ms }. */
export async function purchaseFromForm(name, amount, mode) {
  await page.fill('[data-testid="purchase-product-id"]', `sku-${mode.toLowerCase()}-${amount}`);
  await page.fill('[data-testid="purchase-product-name"]', name);
  await page.fill('[data-testid="purchase-amount"]', String(amount));
  await page.selectOption('[data-testid="purchase-mode"]', mode);
  const t0 = Date.now();
  await page.click('[data-testid="purchase-submit"]');
  const ms = await until(
    `the form's purchase ${name}`,
    (n) => [...document.querySelectorAll('[data-testid="purchase-row"]')].some((r) => r.textContent.includes(n)),
    name,
    LIVE_MS,
    t0,
  );
  await page.locator('[data-testid="purchase-result"]').waitFor({ state: "visible", timeout: LIVE_MS });
  const row = page.locator('[data-testid="purchase-row"]', { hasText: name });
  return { promiseId: await row.getAttribute("data-promise-id"), orderId: await row.getAttribute("data-order-id"), ms };
}

/** Submits one of the page's forms; returns ms from the click until check() holds. */
export async function submitAndWait(form, label, check, timeoutMs = LIVE_MS) {
  const t0 = Date.now();
  await page.click(`[data-testid="${form}-submit"]`);
  const ms = await check(timeoutMs, t0);
  await page.locator(`[data-testid="${form}-result"]`).waitFor({ state: "visible", timeout: LIVE_MS });
  assert.ok(await page.locator(`[data-testid="${form}-error"]`).isHidden(), `${form}: no error`);
  timings.push({ change: label, onPageAfterClickMs: ms });
  console.log(`  ${label}: on the page ${ms} ms after the click`);
  return ms;
}

/**
 * Restarts atone on the same port and database with other flags, as the disconnection
 * check does: stop, the page shows it, start. Returns when atone answers again.
 */
export async function restartAtone(extraArgs) {
  await atone.stop();
  await until("disconnected", () => document.querySelector('[data-testid="conn-status"]').dataset.state === "down", null, 5000);
  await atone.start(extraArgs);
  return Date.now();
}

/** Waits, after a restart, until the page watches again. */
export async function liveAgain(since) {
  return until(
    "live again",
    () =>
      document.querySelector('[data-testid="conn-status"]').dataset.state === "live" &&
      document.querySelector('[data-testid="disconnected-banner"]').hidden,
    null,
    15000,
    since,
  );
}

export const textOf = (sel) => page.locator(sel).first().innerText();
