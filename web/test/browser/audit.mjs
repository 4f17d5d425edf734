// The browser test's last steps: every request after the load was a gRPC-Web POST with the
// page's credential; no CSP violation (an injected inline script is refused); the
// screenshot, in the red 延滞 state the month left.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LIVE_MS, atone, cspViolations, loaded, memberToken, page, requests } from "./world.mjs";

const here = dirname(fileURLToPath(import.meta.url));
/** Where the screenshot goes (SCREENSHOT; the README's by default). */
const SCREENSHOT = process.env.SCREENSHOT ?? resolve(here, "../../../docs/screenshot.png");

/** The audit and the screenshot. */
export function auditSteps(step) {
  step("after the initial load, every request is a gRPC-Web POST to /atone.v1.*", async () => {
    const initial = requests.slice(0, loaded.requests);
    const later = requests.slice(loaded.requests);
    const isGrpcWeb = (r) =>
      r.method === "POST" &&
      /^\/atone\.v1\.[A-Za-z]+Service\/[A-Za-z]+$/.test(r.path) &&
      /^application\/grpc-web(-text)?(\+proto)?$/.test(r.contentType);
    const isDocOrAsset = (r) =>
      r.method === "GET" && (r.path === "/" || /^\/user\/[^/]+$/.test(r.path) || /^\/assets\/app\.(js|css)$/.test(r.path));
    for (const r of initial) assert.ok(isDocOrAsset(r) || isGrpcWeb(r), `unexpected request during load: ${r.method} ${r.url}`);
    const bad = later.filter((r) => !isGrpcWeb(r));
    assert.deepEqual(bad, [], `requests after load that are not gRPC-Web POSTs to /atone.v1.*`);
    const methods = new Set(requests.filter(isGrpcWeb).map((r) => r.path));
    // Every call carried a credential: the member token first, then the admin key; none is in an address.
    const calls = requests.filter(isGrpcWeb);
    const noCredential = calls.filter((r) => r.authorization !== `Bearer ${memberToken}` && r.authorization !== `Bearer ${atone.adminKey}`);
    assert.deepEqual(noCredential.map((r) => r.path), [], "gRPC-Web calls without the page's credential");
    assert.ok(calls.some((r) => r.authorization === `Bearer ${memberToken}`), "calls with the member token");
    assert.ok(calls.some((r) => r.authorization === `Bearer ${atone.adminKey}`), "calls with the admin key");
    const leaked = requests.filter((r) => r.url.includes(memberToken) || r.url.includes(atone.adminKey.split(".")[1]));
    assert.deepEqual(leaked, [], "a credential in a request's address");
    for (const m of [
      "/atone.v1.AuthService/WhoAmI",
      "/atone.v1.QueryService/WatchMember",
      "/atone.v1.CommandService/Purchase",
      "/atone.v1.CommandService/IssueImmediateBill",
      "/atone.v1.CommandService/CompletePayment",
      "/atone.v1.CommandService/CancelPurchase",
      "/atone.v1.CommandService/SetPaymentMethod",
      "/atone.v1.BillingService/CloseBillingPeriod",
    ])
      assert.ok(methods.has(m), `the page called ${m}`);
    console.log(
      `  ${requests.length} requests: ${initial.length} during load (${initial.map((r) => r.path).join(", ")}), ` +
        `${later.length} gRPC-Web POSTs after it (${[...methods].join(", ")})`,
    );
  });

  step("no CSP violation on any page; an injected inline script is refused", async () => {
    assert.deepEqual(cspViolations, [], "Content-Security-Policy violations");
    // The policy is enforced, and the check above would see a violation.
    const reported = page.waitForEvent("console", { predicate: (m) => /Content Security Policy/i.test(m.text()), timeout: LIVE_MS });
    await page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__atoneInlineRan = true;";
      document.head.append(s);
      s.remove();
    });
    console.log(`  injected inline script: ${(await reported).text().split(".")[0]}`);
    assert.equal(await page.evaluate(() => window.__atoneInlineRan), undefined, "the inline script ran");
    assert.equal(cspViolations.length, 1, "the injected script is the only violation");
    cspViolations.length = 0;
  });

  step("saves docs/screenshot.png", async () => {
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.mouse.move(0, 0);
    await page.evaluate(() => {
      document.activeElement?.blur();
      window.scrollTo(0, 0);
    });
    // Wait for the row highlight animations to end (the status dot's pulse is endless).
    await page.waitForFunction(
      () => document.getAnimations().every((a) => a.effect?.getTiming().iterations === Infinity || a.playState !== "running"),
      null,
      { timeout: 5000, polling: 50 },
    );
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`  screenshot: ${SCREENSHOT}`);
  });
}
