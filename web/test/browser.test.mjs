// The browser test of atone's page: real atone (ATONE_BIN) with authentication on (an admin
// API key from `atone api-key`, member tokens), real Chromium (Debian's, via playwright-core),
// changes driven from outside the page with grpcurl and the admin key.
//
//   ATONE_BIN=... GRPCURL=... node --test test/browser.test.mjs
//
// First the credential: the page opened at /user/<id>#token=<member token> (minted with
// IssueMemberToken) shows that member read-only (no write forms), removes the token from
// the address, and its responses carry the security headers (CSP, nosniff, no-referrer,
// DENY); the same token on another member's page shows the permission message, no or a bad
// credential the sign-in prompt; a pasted token works, survives a reload, sign out forgets
// it. The 履歴 Events tab lists the member's event log as stored, newest first, and follows
// new events while it is open. The admin key pasted into the credential field brings the forms. It checks that every change appears on the page live (within 2 s, no reload), that the
// page shows a server restart as a disconnection and resumes from its cursor afterwards
// (missing nothing), that its own forms work and show errors, and that after the initial
// load it talks to atone only through gRPC-Web POSTs. Then the month (H–K): monthly
// purchases, a cancellation and the payment method from the page's forms; atone restarted
// 32 days ahead (--clock-offset) so their month has ended; the page's close form bills it
// (the monthly bill appears live, with its items and the 209 yen fee) and its payment form
// pays it; restarted 70 days ahead with the daily billing, an unpaid bill becomes overdue:
// the page turns red (延滞) and its purchase form shows the refusal. Last it saves
// docs/screenshot.png (SCREENSHOT). No step may cause a CSP violation, and an injected
// inline script is refused.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Atone, CHROMIUM, freePort } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOT = process.env.SCREENSHOT ?? resolve(here, "../../docs/screenshot.png");
/** How soon a change must show on the page. */
const LIVE_MS = 2000;
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

const userId = `web-${randomUUID().slice(0, 8)}`;
/** The page's write forms: none for a member token, all for the admin key. */
const FORMS = ["purchase", "bill", "payment", "cancel", "method", "close"];
const timings = [];
let atone;
/** A member token for userId (IssueMemberToken, as the admin key). */
let memberToken;
/** Content-Security-Policy violations Chromium reported on any page of the test. */
const cspViolations = [];
let context;
let page;
let profileDir;
/** Every request the page made: { method, url, path, contentType }. */
const requests = [];
let loadedAt = 0;
let timeOrigin = 0;
let failed = false;

/** Waits (polling every 10 ms) until fn(arg) is truthy in page p; returns ms waited. */
async function untilOn(p, what, fn, arg, timeoutMs = LIVE_MS, since = Date.now()) {
  try {
    await p.waitForFunction(fn, arg, { timeout: Math.max(1, timeoutMs - (Date.now() - since)), polling: 10 });
  } catch (err) {
    throw new Error(`${what}: not on the page within ${timeoutMs} ms (${err.message.split("\n")[0]})`);
  }
  return Date.now() - since;
}

/** The same, in the test's main page. */
const until = (what, fn, arg, timeoutMs = LIVE_MS, since = Date.now()) => untilOn(page, what, fn, arg, timeoutMs, since);

/** Records the CSP violations (and page errors) of page p. */
function observe(p) {
  p.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(`${m.type()}: ${m.text()}`);
  });
  p.on("pageerror", (e) => console.log(`  page error: ${e.message}`));
}

/** The security headers every page response carries (services/atone/src/web.rs). */
function assertSecurityHeaders(headers, what) {
  const csp = headers["content-security-policy"] ?? "";
  const directives = csp.split(";").map((d) => d.trim());
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"])
    assert.ok(directives.includes(d), `${what}: Content-Security-Policy ${JSON.stringify(csp)} lacks ${d}`);
  assert.doesNotMatch(csp, /unsafe-/, `${what}: the CSP allows unsafe code`);
  assert.equal(headers["x-content-type-options"], "nosniff", `${what}: X-Content-Type-Options`);
  assert.equal(headers["referrer-policy"], "no-referrer", `${what}: Referrer-Policy`);
  assert.equal(headers["x-frame-options"], "DENY", `${what}: X-Frame-Options`);
}

/** Asserts which of the write forms page p shows. */
async function assertForms(p, visible, what) {
  for (const f of FORMS)
    assert.equal(await p.locator(`[data-testid="${f}-form"]`).isVisible(), visible, `${what}: the ${f} form is ${visible ? "missing" : "shown"}`);
}

/** Who the page says is signed in: { state, kind, id }. */
const whoami = (p) =>
  p.evaluate(() => {
    const el = document.querySelector('[data-testid="whoami"]');
    return { state: el.dataset.state, kind: el.dataset.kind, id: el.dataset.id };
  });

const text = (testid) => page.locator(`[data-testid="${testid}"]`).first().innerText();

/** A function (timeoutMs, since) waiting until the element matching sel has attrs (text: contains). */
function rowIs(sel, attrs) {
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
async function outside(label, method, body, appears) {
  const t0 = Date.now();
  const reply = await atone.grpc(method, body);
  const replyMs = Date.now() - t0;
  const totalMs = await appears(reply, t0);
  const afterReplyMs = totalMs - replyMs;
  timings.push({ change: label, commandReplyMs: replyMs, onPageAfterReplyMs: afterReplyMs, onPageAfterSendMs: totalMs });
  console.log(`  ${label}: grpcurl reply ${replyMs} ms; on the page ${afterReplyMs} ms after the reply (${totalMs} ms after sending)`);
  return reply;
}

async function assertNotReloaded() {
  const state = await page.evaluate(() => ({ marker: window.__atoneTestMarker, origin: performance.timeOrigin }));
  assert.equal(state.marker, "set-by-test", "the page was reloaded (the marker set on window is gone)");
  assert.equal(state.origin, timeOrigin, "the page was reloaded (performance.timeOrigin changed)");
  const documents = requests.filter((r) => r.method === "GET" && !r.path.startsWith("/assets/"));
  assert.equal(documents.length, 1, `the document was requested ${documents.length} times`);
}

const yen = (n) => `¥${n.toLocaleString("en-US")}`;

describe("atone page over gRPC-Web", { concurrency: false }, () => {
  before(async () => {
    atone = new Atone(await freePort());
    await atone.enableAuth();
    await atone.start();
    // The binary embeds web/dist at build time: make sure it is this web/dist.
    for (const name of ["app.js", "app.css"]) {
      const res = await fetch(`${atone.url}/assets/${name}`);
      const served = await res.text();
      const built = readFileSync(resolve(here, `../dist/${name}`), "utf8");
      assert.ok(served === built, `ATONE_BIN serves another /assets/${name} than web/dist/${name}: rebuild atone (cargo build -p atone)`);
      assertSecurityHeaders(Object.fromEntries(res.headers), `/assets/${name}`);
    }
    const missing = await fetch(`${atone.url}/no/such/page`);
    assert.equal(missing.status, 404);
    assertSecurityHeaders(Object.fromEntries(missing.headers), "the 404");
    // Authentication is on: without a credential atone refuses, with the admin key it answers.
    await assert.rejects(atone.grpc("atone.v1.AuthService/WhoAmI", {}, null), /Unauthenticated/);
    assert.deepEqual(await atone.grpc("atone.v1.AuthService/WhoAmI", {}), { kind: "api-key", id: "web-admin", scopes: ["admin"] });
    memberToken = await atone.memberToken(userId);
    profileDir = mkdtempSync(join(tmpdir(), "atone-chromium-"));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, `--user-data-dir=${profileDir}`].filter((a) => !a.startsWith("--user-data-dir")),
      viewport: { width: 1360, height: 900 },
      deviceScaleFactor: 1,
      locale: "ja-JP",
      timezoneId: "Asia/Tokyo",
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("request", (r) => {
      const u = new URL(r.url());
      const headers = r.headers();
      requests.push({
        method: r.method(),
        url: r.url(),
        path: u.pathname,
        contentType: headers["content-type"] ?? "",
        authorization: headers.authorization ?? "",
      });
    });
    observe(page);
  });

  after(async () => {
    await context?.close().catch(() => {});
    await atone?.stop().catch(() => atone.kill());
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    if (atone && !failed) rmSync(atone.dir, { recursive: true, force: true });
    else if (atone) console.log(`  atone's database and logs kept in ${atone.dir}`);
    if (timings.length) console.log(`timings ${JSON.stringify(timings)}`);
  });

  const step = (name, fn) =>
    it(name, async (t) => {
      if (failed) return t.skip("an earlier step failed");
      try {
        await fn(t);
      } catch (err) {
        failed = true;
        throw err;
      }
    });

  step("opens /user/<id>#token=<member token>: the member, read-only, live; the token leaves the address", async () => {
    const response = await page.goto(`${atone.url}/user/${encodeURIComponent(userId)}#token=${encodeURIComponent(memberToken)}`, {
      waitUntil: "load",
    });
    loadedAt = requests.length;
    assert.equal(response.status(), 200);
    assertSecurityHeaders(response.headers(), "the page /user/<id>");
    await until("the token removed from the address", () => location.hash === "", null, 5000);
    assert.equal(new URL(page.url()).pathname, `/user/${userId}`);
    assert.ok(!page.url().includes("token"), `the address still has the token: ${page.url()}`);
    assert.equal(await page.evaluate(() => history.state?.token), undefined);
    // Kept for this tab only.
    assert.equal(await page.evaluate(() => sessionStorage.getItem("atone.credential")), memberToken);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.equal(await page.evaluate(() => document.cookie), "");
    await until("live status", () => document.querySelector('[data-testid="conn-status"]')?.dataset.state === "live", null, 5000);
    await until("signed in as the member", (u) => {
      const el = document.querySelector('[data-testid="whoami"]');
      return el.dataset.state === "known" && el.dataset.kind === "member" && el.dataset.id === u;
    }, userId, 5000);
    assert.match(await text("whoami"), new RegExp(`会員 Member ${userId}`));
    assert.ok(await page.locator('[data-testid="sign-out"]').isVisible(), "sign out offered");
    await assertForms(page, false, "a member token");
    assert.ok(await page.locator('[data-testid="read-only"]').isVisible(), "the read-only note");
    assert.ok(await page.locator('[data-testid="auth-panel"]').isHidden());
    assert.equal(await text("member-id"), userId);
    assert.equal(await page.locator('[data-testid="user-input"]').inputValue(), userId);
    await until("credit limit", () => document.querySelector('[data-testid="credit-limit"]').textContent === "¥50,000", null, 5000);
    assert.equal(await text("available"), "¥50,000");
    assert.equal(await text("outstanding"), "¥0");
    assert.ok(await page.locator('[data-testid="disconnected-banner"]').isHidden());
    await page.evaluate(() => {
      window.__atoneTestMarker = "set-by-test";
    });
    timeOrigin = await page.evaluate(() => performance.timeOrigin);
  });

  step("another member with that token: the permission message; no or a bad credential: the sign-in prompt", async () => {
    const other = `${userId}-not-mine`;
    // atone itself refuses the token for another member.
    await assert.rejects(atone.grpc("atone.v1.QueryService/GetMember", { user_id: other }, memberToken), /PermissionDenied/);
    const p = await context.newPage();
    observe(p);
    try {
      const response = await p.goto(`${atone.url}/user/${other}#token=${encodeURIComponent(memberToken)}`, { waitUntil: "load" });
      assertSecurityHeaders(response.headers(), "another member's page");
      await untilOn(
        p,
        "the permission message",
        () =>
          !document.querySelector('[data-testid="denied"]').hidden &&
          document.querySelector('[data-testid="member"]').hidden &&
          document.querySelector('[data-testid="conn-status"]').dataset.state === "failed",
        null,
        5000,
      );
      const denied = await p.locator('[data-testid="denied"]').innerText();
      console.log(`  another member's page with the member token shows: ${denied.replace(/\s+/g, " ")}`);
      assert.match(denied, /この会員は表示できません/);
      assert.match(denied, new RegExp(`cannot view member ${other}`));
      assert.match(denied, /PermissionDenied: this member token is for another member/);
      assert.equal(new URL(p.url()).hash, "", "the token is gone from the address");
      assert.ok(await p.locator('[data-testid="disconnected-banner"]').isHidden(), "no reconnecting banner");
      await assertForms(p, false, "a member token on another member's page");

      // No credential: the sign-in prompt, nothing of the member.
      await p.evaluate(() => sessionStorage.clear());
      await p.goto(`${atone.url}/user/${userId}`, { waitUntil: "load" });
      await untilOn(
        p,
        "the sign-in prompt",
        () =>
          document.querySelector('[data-testid="auth-panel"]').dataset.reason === "missing" &&
          !document.querySelector('[data-testid="auth-panel"]').hidden &&
          document.querySelector('[data-testid="whoami"]').dataset.state === "unauthenticated" &&
          document.querySelector('[data-testid="member"]').hidden &&
          document.querySelector('[data-testid="conn-status"]').dataset.state === "failed",
        null,
        5000,
      );
      assert.match(await p.locator('[data-testid="auth-panel"]').innerText(), /認証が必要です Sign-in needed/);
      assert.equal(await p.locator('[data-testid="credential-input"]').getAttribute("type"), "password");
      assert.ok(await p.locator('[data-testid="sign-out"]').isHidden(), "nothing to sign out of");
      await assertForms(p, false, "no credential");

      // A bad credential: refused, with atone's reason.
      await p.goto("about:blank");
      await p.goto(`${atone.url}/user/${userId}#token=not-a-valid-token`, { waitUntil: "load" });
      await untilOn(
        p,
        "the credential refused",
        () =>
          document.querySelector('[data-testid="auth-panel"]').dataset.reason === "refused" &&
          document.querySelector('[data-testid="whoami"]').dataset.state === "unauthenticated" &&
          location.hash === "",
        null,
        5000,
      );
      assert.match(await p.locator('[data-testid="auth-panel"]').innerText(), /Credential refused[\s\S]*Unauthenticated/);

      // The member token pasted into the credential field: the member, live.
      await p.fill('[data-testid="credential-input"]', memberToken);
      await p.click('[data-testid="credential-submit"]');
      const signedIn = (u) =>
        document.querySelector('[data-testid="whoami"]').dataset.kind === "member" &&
        document.querySelector('[data-testid="whoami"]').dataset.id === u &&
        document.querySelector('[data-testid="conn-status"]').dataset.state === "live" &&
        !document.querySelector('[data-testid="member"]').hidden &&
        document.querySelector('[data-testid="auth-panel"]').hidden &&
        document.querySelector('[data-testid="credit-limit"]').textContent === "¥50,000";
      await untilOn(p, "signed in with the pasted member token", signedIn, userId, 5000);
      assert.equal(await p.locator('[data-testid="credential-input"]').inputValue(), "", "the field is cleared");
      assert.equal(await p.evaluate(() => sessionStorage.getItem("atone.credential")), memberToken);
      // A reload keeps it (sessionStorage).
      await p.reload({ waitUntil: "load" });
      await untilOn(p, "still signed in after a reload", signedIn, userId, 5000);
      // Sign out forgets it.
      await p.click('[data-testid="sign-out"]');
      await untilOn(
        p,
        "signed out",
        () =>
          document.querySelector('[data-testid="whoami"]').dataset.state === "unauthenticated" &&
          document.querySelector('[data-testid="auth-panel"]').dataset.reason === "missing" &&
          document.querySelector('[data-testid="member"]').hidden,
        null,
        5000,
      );
      assert.equal(await p.evaluate(() => sessionStorage.getItem("atone.credential")), null);
    } finally {
      await p.close();
    }
    await assertNotReloaded();
  });

  let a;
  let bill;
  step("A: a purchase made outside the page appears within 2 s", async () => {
    a = await outside(
      "A purchase",
      "atone.v1.CommandService/Purchase",
      {
        user_id: userId,
        product_id: "sku-a",
        product_name: "ワイヤレスイヤホン",
        amount: 4200,
        payment_mode: "PAYMENT_MODE_IMMEDIATE",
        idempotency_key: randomUUID(),
      },
      (r, t0) =>
        rowIs(`[data-testid="purchase-row"][data-promise-id="${r.promiseId}"]`, {
          "data-status": "UNBILLED",
          text: "ワイヤレスイヤホン",
        })(LIVE_MS, t0),
    );
    const row = page.locator(`[data-testid="purchase-row"][data-promise-id="${a.promiseId}"]`);
    assert.match(await row.innerText(), /¥4,200/);
    assert.match(await row.innerText(), /すぐ払い/);
    assert.match(await row.innerText(), new RegExp(a.dueDate));
    await until("outstanding ¥4,200", () => document.querySelector('[data-testid="outstanding"]').textContent === "¥4,200");
    assert.equal(await text("available"), "¥45,800");
    await assertNotReloaded();
  });

  step("B: an immediate bill issued outside the page appears within 2 s", async () => {
    bill = await outside(
      "B immediate bill",
      "atone.v1.CommandService/IssueImmediateBill",
      { user_id: userId, promise_id: a.promiseId, amount: 0, idempotency_key: randomUUID() },
      (r, t0) =>
        rowIs(`[data-testid="bill-row"][data-bill-id="${r.billId}"]`, { "data-status": "UNPAID", text: "未払い" })(LIVE_MS,
          t0,
        ),
    );
    const row = page.locator(`[data-testid="bill-row"][data-bill-id="${bill.billId}"]`);
    assert.match(await row.innerText(), /¥4,200/);
    assert.match(await row.innerText(), new RegExp(bill.dueDate));
    await rowIs(`[data-testid="purchase-row"][data-promise-id="${a.promiseId}"]`, { "data-status": "BILLED" })();
    await assertNotReloaded();
  });

  step("C: a payment recorded outside the page appears within 2 s", async () => {
    await outside(
      "C payment",
      "atone.v1.CommandService/CompletePayment",
      { user_id: userId, bill_id: bill.billId, amount: 4200, idempotency_key: randomUUID() },
      (_r, t0) =>
        rowIs(`[data-testid="bill-row"][data-bill-id="${bill.billId}"]`, { "data-status": "PAID", text: "支払済み" })(LIVE_MS,
          t0,
        ),
    );
    const paid = await page.locator(`[data-testid="bill-row"][data-bill-id="${bill.billId}"] [data-testid="bill-paid-cell"]`).innerText();
    assert.match(paid, /^\d{4}-\d{2}-\d{2}$/, "paid date shown");
    await until("outstanding back to ¥0", () => document.querySelector('[data-testid="outstanding"]').textContent === "¥0");
    assert.equal(await text("available"), "¥50,000");
    await rowIs(`[data-testid="purchase-row"][data-promise-id="${a.promiseId}"]`, { "data-status": "PAID" })();
    assert.equal(await page.locator('[data-testid="activity-item"]').count(), 4, "four changes in the activity list");
    await assertNotReloaded();
  });

  step("履歴 / Events tab: the member's event log as stored, newest first", async () => {
    await page.locator('[data-testid="tab-events"]').click();
    assert.ok(await page.locator('[data-testid="events-tab"]').isVisible(), "the events tab shows");
    assert.ok(!(await page.locator('[data-testid="overview-tab"]').isVisible()), "the overview hides");
    await until("four events in the log", () => document.querySelectorAll('[data-testid="event-row"]').length === 4, null, LIVE_MS);
    const rows = await page.locator('[data-testid="event-row"]').evaluateAll((els) =>
      els.map((el) => [el.dataset.version, el.dataset.eventType]),
    );
    assert.deepEqual(rows, [
      ["4", "PaymentCompleted"],
      ["3", "MemberBillIssued"],
      ["2", "PaymentPromiseCreated"],
      ["1", "PurchaseCompleted"],
    ]);
    const first = JSON.parse(await page.locator('[data-testid="event-row"][data-version="1"] [data-testid="event-payload"]').innerText());
    assert.equal(first.product_id, "sku-a", `the purchase's payload: ${JSON.stringify(first)}`);
    assert.equal(await text("event-count"), "4");
    await page.locator('[data-testid="tab-overview"]').click();
    assert.ok(await page.locator('[data-testid="overview-tab"]').isVisible(), "back to the overview");
    await assertNotReloaded();
  });

  step("shows the disconnection when atone stops (SIGTERM)", async () => {
    const t0 = Date.now();
    const exit = await atone.stop();
    console.log(`  atone stopped (${JSON.stringify(exit)}) in ${Date.now() - t0} ms`);
    const ms = await until(
      "disconnected banner",
      () =>
        !document.querySelector('[data-testid="disconnected-banner"]').hidden &&
        document.querySelector('[data-testid="conn-status"]').dataset.state === "down",
      null,
      5000,
    );
    console.log(`  banner shown ${ms} ms after the server was gone`);
    assert.match(await text("disconnected-banner"), /接続が切れました/);
    assert.match(await text("disconnected-banner"), /reconnecting/);
    // Let the page back off a few times (its next try is then 2.5 s or more away), so that
    // the change below is made while it is still disconnected.
    await until(
      "4 failed reconnection attempts",
      () => Number(document.querySelector('[data-testid="conn-status"]').dataset.attempt ?? 0) >= 4,
      null,
      15000,
    );
    await assertNotReloaded();
  });

  let d;
  step("after a restart on the same port and database it resumes from its cursor and misses nothing", async () => {
    await atone.start();
    const restarted = Date.now();
    // A change made while the page is still disconnected: it can only arrive through the
    // cursor the page resumes from.
    d = await atone.grpc("atone.v1.CommandService/Purchase", {
      user_id: userId,
      product_id: "sku-d",
      product_name: "再接続テスト",
      amount: 1800,
      payment_mode: "PAYMENT_MODE_MONTHLY",
      idempotency_key: randomUUID(),
    });
    const stillDown = await page.evaluate(() => document.querySelector('[data-testid="conn-status"]').dataset.state);
    assert.equal(stillDown, "down", "D was meant to be made while the page was disconnected");
    const dMs = await rowIs(`[data-testid="purchase-row"][data-promise-id="${d.promiseId}"]`, { text: "再接続テスト" })(
      15000,
      restarted,
    );
    await until(
      "live again",
      () =>
        document.querySelector('[data-testid="conn-status"]').dataset.state === "live" &&
        document.querySelector('[data-testid="disconnected-banner"]').hidden,
      null,
      15000,
      restarted,
    );
    console.log(`  D (made while the page was disconnected) on the page ${dMs} ms after atone was up again`);
    timings.push({ change: "D purchase while the page was disconnected", onPageAfterServerUpMs: dMs });
    assert.match(await page.locator(`[data-testid="purchase-row"][data-promise-id="${d.promiseId}"]`).innerText(), /月まとめ払い/);
    await until("outstanding ¥1,800", () => document.querySelector('[data-testid="outstanding"]').textContent === "¥1,800");
    // Resumed from the cursor (no second snapshot); nothing lost, nothing doubled.
    assert.equal(await page.locator('[data-testid="member"]').getAttribute("data-snapshots"), "1");
    assert.equal(await page.locator('[data-testid="purchase-row"]').count(), 2);
    assert.equal(await page.locator('[data-testid="activity-item"]').count(), 6);
    assert.equal(await text("member-version"), "6");
    await assertNotReloaded();
  });

  step("E: once reconnected, a change made outside appears within 2 s (on the events tab too)", async () => {
    await page.locator('[data-testid="tab-events"]').click();
    const e = await outside(
      "E purchase after reconnect",
      "atone.v1.CommandService/Purchase",
      {
        user_id: userId,
        product_id: "sku-e",
        product_name: "モバイルバッテリー",
        amount: 3300,
        payment_mode: "PAYMENT_MODE_IMMEDIATE",
        idempotency_key: randomUUID(),
      },
      (r, t0) => rowIs(`[data-testid="purchase-row"][data-promise-id="${r.promiseId}"]`, { text: "モバイルバッテリー" })(LIVE_MS, t0),
    );
    await outside(
      "E2 immediate bill after reconnect",
      "atone.v1.CommandService/IssueImmediateBill",
      { user_id: userId, promise_id: e.promiseId, amount: 0, idempotency_key: randomUUID() },
      (r, t0) => rowIs(`[data-testid="bill-row"][data-bill-id="${r.billId}"]`, { "data-status": "UNPAID", text: "¥3,300" })(LIVE_MS, t0),
    );
    // The open events tab follows: its newest row is the bill, at the member's version.
    await until("the event log up to the member's version", () => {
      const rows = document.querySelectorAll('[data-testid="event-row"]');
      const version = document.querySelector('[data-testid="member-version"]').textContent;
      return rows.length === Number(version) && rows[0].dataset.version === version && rows[0].dataset.eventType === "MemberBillIssued";
    }, null, LIVE_MS);
    await page.locator('[data-testid="tab-overview"]').click();
    await assertNotReloaded();
  });

  step("the admin key pasted into the credential field brings the forms", async () => {
    await page.click('[data-testid="credential-toggle"]');
    await page.locator('[data-testid="credential-input"]').waitFor({ state: "visible", timeout: LIVE_MS });
    await page.fill('[data-testid="credential-input"]', atone.adminKey);
    const t0 = Date.now();
    await page.click('[data-testid="credential-submit"]');
    await until(
      "signed in with the admin key, live",
      () => {
        const who = document.querySelector('[data-testid="whoami"]').dataset;
        return (
          who.state === "known" &&
          who.kind === "api-key" &&
          who.id === "web-admin" &&
          document.querySelector('[data-testid="conn-status"]').dataset.state === "live" &&
          document.querySelectorAll('[data-testid="purchase-row"]').length === 3
        );
      },
      null,
      5000,
      t0,
    );
    assert.match(await text("whoami"), /APIキー API key web-admin \(admin\)/);
    assert.ok(await page.locator('[data-testid="auth-panel"]').isHidden(), "the credential panel closes");
    assert.equal(await page.locator('[data-testid="credential-input"]').inputValue(), "", "the field is cleared");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("atone.credential")), atone.adminKey);
    await assertForms(page, true, "the admin key");
    assert.ok(await page.locator('[data-testid="read-only"]').isHidden());
    await assertNotReloaded();
  });

  step("the page's own forms: purchase, immediate bill, payment", async () => {
    await page.fill('[data-testid="purchase-product-id"]', "sku-form-01");
    await page.fill('[data-testid="purchase-product-name"]', "フォームで購入したノート");
    await page.fill('[data-testid="purchase-amount"]', "2500");
    await page.selectOption('[data-testid="purchase-mode"]', "IMMEDIATE");
    let t0 = Date.now();
    await page.click('[data-testid="purchase-submit"]');
    const ms = await until(
      "the form's purchase",
      () =>
        [...document.querySelectorAll('[data-testid="purchase-row"]')].some((r) => r.textContent.includes("フォームで購入したノート")),
      null,
      LIVE_MS,
      t0,
    );
    timings.push({ change: "F purchase from the page's form", onPageAfterClickMs: ms });
    console.log(`  F (the page's purchase form) on the page ${ms} ms after the click`);
    await page.locator('[data-testid="purchase-result"]').waitFor({ state: "visible", timeout: LIVE_MS });
    assert.match(await text("purchase-result"), /Accepted/);
    assert.ok(await page.locator('[data-testid="purchase-error"]').isHidden());
    const formRow = page.locator('[data-testid="purchase-row"]', { hasText: "フォームで購入したノート" });
    const promiseId = await formRow.getAttribute("data-promise-id");

    // Immediate bill from the page: pick that promise.
    await page.selectOption('[data-testid="bill-promise"]', promiseId);
    t0 = Date.now();
    await page.click('[data-testid="bill-submit"]');
    await rowIs(`[data-testid="purchase-row"][data-promise-id="${promiseId}"]`, { "data-status": "BILLED" })(LIVE_MS, t0);
    await page.locator('[data-testid="bill-result"]').waitFor({ state: "visible", timeout: LIVE_MS });
    const billId = await page.evaluate(
      (pid) => [...document.querySelectorAll('[data-testid="bill-row"]')].find((r) => r.textContent.includes("¥2,500"))?.dataset.billId,
      promiseId,
    );
    assert.ok(billId, "the form's bill is listed");

    // Payment from the page, first with a wrong amount: the gRPC status message is shown.
    await page.selectOption('[data-testid="payment-bill"]', billId);
    assert.equal(await page.locator('[data-testid="payment-amount"]').inputValue(), "2500", "amount prefilled");
    await page.fill('[data-testid="payment-amount"]', "2400");
    await page.click('[data-testid="payment-submit"]');
    await page.locator('[data-testid="payment-error"]').waitFor({ state: "visible", timeout: LIVE_MS });
    const error = await text("payment-error");
    console.log(`  wrong payment amount shows: ${error}`);
    assert.match(error, /エラー Error — (InvalidArgument|FailedPrecondition): .+/);
    await page.fill('[data-testid="payment-amount"]', "2500");
    t0 = Date.now();
    await page.click('[data-testid="payment-submit"]');
    await rowIs(`[data-testid="bill-row"][data-bill-id="${billId}"]`, { "data-status": "PAID" })(LIVE_MS, t0);
    await page.locator('[data-testid="payment-result"]').waitFor({ state: "visible", timeout: LIVE_MS });
    assert.ok(await page.locator('[data-testid="payment-error"]').isHidden());

    // Over the credit limit: refused, with the server's message.
    await page.fill('[data-testid="purchase-product-id"]', "sku-too-much");
    await page.fill('[data-testid="purchase-product-name"]', "高すぎる商品");
    await page.fill('[data-testid="purchase-amount"]', "60000");
    await page.click('[data-testid="purchase-submit"]');
    await page.locator('[data-testid="purchase-error"]').waitFor({ state: "visible", timeout: LIVE_MS });
    const limitError = await text("purchase-error");
    console.log(`  over-limit purchase shows: ${limitError}`);
    assert.match(limitError, /FailedPrecondition: credit limit/);
    assert.equal(await page.locator('[data-testid="purchase-row"]', { hasText: "高すぎる商品" }).count(), 0);

    // Leave the form as it was.
    await page.fill('[data-testid="purchase-product-id"]', "sku-0001");
    await page.fill('[data-testid="purchase-product-name"]', "");
    await page.fill('[data-testid="purchase-amount"]', "3000");
    await page.evaluate(() => {
      document.querySelector('[data-testid="purchase-error"]').hidden = true;
    });
    await assertNotReloaded();
  });

  step("a CURSOR_EXPIRED snapshot replaces the page's state", async () => {
    // The page loses its network (its WatchMember requests fail) while atone restarts with
    // a 1 s change-feed retention and a change G is made and then pruned from the feed.
    const watchRoute = "**/atone.v1.QueryService/WatchMember";
    await page.route(watchRoute, (route) => route.abort("connectionrefused"));
    await atone.stop();
    await until("disconnected", () => document.querySelector('[data-testid="conn-status"]').dataset.state === "down", null, 5000);
    const cursor = await page.locator('[data-testid="member"]').getAttribute("data-cursor");
    await atone.start(["--change-feed-retention", "1s"]);
    const g = await atone.grpc("atone.v1.CommandService/Purchase", {
      user_id: userId,
      product_id: "sku-g",
      product_name: "期限切れカーソル",
      amount: 1200,
      payment_mode: "PAYMENT_MODE_IMMEDIATE",
      idempotency_key: randomUUID(),
    });
    // Poll (grpcurl, with the page's cursor) until the feed no longer has what the page missed.
    const deadline = Date.now() + 15000;
    for (;;) {
      const first = (await atone.watchOnce({ user_id: userId, cursor }, 1))[0];
      if (first?.snapshot?.reason === "SNAPSHOT_REASON_CURSOR_EXPIRED") break;
      assert.ok(Date.now() < deadline, `the page's cursor ${cursor} did not expire within 15 s`);
    }
    const back = Date.now();
    await page.unroute(watchRoute);
    const ms = await until(
      "the CURSOR_EXPIRED snapshot",
      (pid) =>
        document.querySelector('[data-testid="member"]').dataset.snapshots === "2" &&
        !!document.querySelector(`[data-testid="purchase-row"][data-promise-id="${pid}"]`) &&
        !!document.querySelector('[data-testid="cursor-expired"]') &&
        document.querySelector('[data-testid="conn-status"]').dataset.state === "live",
      g.promiseId,
      15000,
      back,
    );
    console.log(`  G (pruned from the feed while the page was offline) arrived in a CURSOR_EXPIRED snapshot ${ms} ms after the network came back`);
    // The snapshot replaced the state: every purchase once, the credit as the server has it.
    const member = await atone.grpc("atone.v1.QueryService/GetMember", { user_id: userId });
    assert.equal(await page.locator('[data-testid="purchase-row"]').count(), member.member.promises.length);
    assert.equal(await page.locator('[data-testid="bill-row"]').count(), member.member.bills.length);
    assert.equal(await text("member-version"), member.member.summary.version);
    assert.equal(await text("outstanding"), yen(Number(member.member.summary.outstandingAmount ?? 0)));
    await assertNotReloaded();
  });

  step("the member input field switches members without a reload; Back returns", async () => {
    const other = `${userId}-other`;
    await atone.grpc("atone.v1.CommandService/Purchase", {
      user_id: other,
      product_id: "sku-other",
      product_name: "別の会員の購入",
      amount: 700,
      payment_mode: "PAYMENT_MODE_MONTHLY",
      idempotency_key: randomUUID(),
    });
    await page.fill('[data-testid="user-input"]', other);
    await page.click('[data-testid="user-open"]');
    await until(
      "the other member",
      (o) =>
        document.querySelector('[data-testid="member-id"]').textContent === o &&
        document.querySelector('[data-testid="outstanding"]').textContent === "¥700" &&
        document.querySelectorAll('[data-testid="purchase-row"]').length === 1 &&
        document.querySelector('[data-testid="conn-status"]').dataset.state === "live",
      other,
      5000,
    );
    assert.equal(new URL(page.url()).pathname, `/user/${other}`);
    await page.goBack({ waitUntil: "commit" }).catch(() => {});
    await until(
      "back to the first member",
      (u) =>
        location.pathname === `/user/${u}` &&
        document.querySelector('[data-testid="member-id"]').textContent === u &&
        document.querySelectorAll('[data-testid="purchase-row"]').length === 5,
      userId,
      5000,
    );
    await assertNotReloaded();
  });

  // ------------------------------------------------------------ the month: close → bill → payment, and 延滞

  /** Buys through the page's purchase form; returns the new row's { promiseId, orderId, ms }. */
  async function purchaseFromForm(name, amount, mode) {
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
  async function submitAndWait(form, label, check, timeoutMs = LIVE_MS) {
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
  async function restartAtone(extraArgs) {
    await atone.stop();
    await until("disconnected", () => document.querySelector('[data-testid="conn-status"]').dataset.state === "down", null, 5000);
    await atone.start(extraArgs);
    return Date.now();
  }

  /** Waits, after a restart, until the page watches again. */
  async function liveAgain(since) {
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

  const textOf = (sel) => page.locator(sel).first().innerText();
  let period;
  let book;
  let umbrella;
  step("H: monthly purchases, a cancellation and the payment method from the page's forms", async () => {
    book = await purchaseFromForm("月まとめ: 文庫本", 1500, "MONTHLY");
    umbrella = await purchaseFromForm("月まとめ: 折りたたみ傘", 2200, "MONTHLY");
    timings.push({ change: "H monthly purchase from the page's form", onPageAfterClickMs: umbrella.ms });
    const bookRow = `[data-testid="purchase-row"][data-promise-id="${book.promiseId}"]`;
    const umbrellaRow = `[data-testid="purchase-row"][data-promise-id="${umbrella.promiseId}"]`;
    assert.match(await textOf(bookRow), /月まとめ払い/);
    // The month the purchases belong to, as atone sees it: the one before their due date.
    const due = (await textOf(bookRow)).match(/(\d{4})-(\d{2})-10/);
    assert.ok(due, "a monthly promise falls due on the 10th of the next month");
    const month = new Date(Date.UTC(Number(due[1]), Number(due[2]) - 2, 1));
    period = `${month.getUTCFullYear()}-${String(month.getUTCMonth() + 1).padStart(2, "0")}`;
    console.log(`  monthly purchases of ${period}`);

    // 返品 (part of an order) before billing: the promise shrinks.
    await page.selectOption('[data-testid="cancel-order"]', umbrella.orderId);
    await page.fill('[data-testid="cancel-amount"]', "200");
    await submitAndWait("cancel", "H partial cancellation from the page's form", rowIs(umbrellaRow, { "data-status": "UNBILLED", text: "返品 −¥200" }));
    assert.equal(await textOf(`${umbrellaRow} [data-testid="purchase-amount-cell"]`), "¥2,000");
    assert.match(await text("cancel-result"), /Cancelled — 残り remaining ¥2,000/);
    assert.equal(await page.locator('[data-testid="cancel-amount"]').inputValue(), "", "the amount is cleared");

    // 支払方法: bank debit, then back to the convenience store (whose bills carry the fee).
    assert.match(await text("payment-method"), /コンビニ払い/);
    await page.selectOption('[data-testid="method-select"]', "BANK_DEBIT");
    await submitAndWait("method", "H payment method from the page's form", rowIs('[data-testid="payment-method"]', { "data-method": "BANK_DEBIT", text: "口座振替" }));
    // The account its bills are drawn from, given outside the page: shown masked.
    await outside(
      "H bank account",
      "atone.v1.CommandService/SetBankAccount",
      {
        user_id: userId,
        account: { bank_code: "0001", branch_code: "001", account_number: "1234567", holder: "ヤマダ タロウ" },
        idempotency_key: randomUUID(),
      },
      (_r, t0) => rowIs('[data-testid="bank-account"]', { text: "0001-001 ****567 ﾔﾏﾀﾞ ﾀﾛｳ" })(LIVE_MS, t0),
    );
    assert.doesNotMatch(await page.content(), /1234567/);
    await page.selectOption('[data-testid="method-select"]', "CONVENIENCE_STORE");
    await submitAndWait("method", "H payment method back", rowIs('[data-testid="payment-method"]', { "data-method": "CONVENIENCE_STORE", text: "コンビニ払い" }));

    // 締め of a month that has not ended (atone's clock is still today): refused.
    await page.fill('[data-testid="close-period"]', period);
    await page.click('[data-testid="close-submit"]');
    await page.locator('[data-testid="close-error"]').waitFor({ state: "visible", timeout: LIVE_MS });
    const closeError = await text("close-error");
    console.log(`  closing a month that has not ended shows: ${closeError}`);
    assert.match(closeError, /エラー Error — FailedPrecondition: .+/);
    assert.equal(await page.locator('[data-testid="bill-row"][data-kind="MONTHLY"]').count(), 0);
    await assertNotReloaded();
  });

  let monthly;
  step("I: 32 days later, the page's close form bills the month: the monthly bill appears live", async () => {
    // Its clock 32 days ahead, so the month of the purchases has ended; no daily billing,
    // so that the page's close form is what bills it.
    const up = await restartAtone(["--clock-offset", "32d", "--no-daily-billing"]);
    const liveMs = await liveAgain(up);
    console.log(`  atone restarted 32 days ahead; the page live again ${liveMs} ms after it was up`);
    await page.fill('[data-testid="close-period"]', period);
    const sel = `[data-testid="bill-row"][data-kind="MONTHLY"][data-period="${period}"]`;
    await submitAndWait("close", "I monthly bill from the page's close form", rowIs(sel, { "data-status": "UNPAID", text: "未払い" }));
    const progress = page.locator('[data-testid="close-progress"]');
    assert.equal(await progress.getAttribute("data-done"), "true");
    assert.equal(await progress.getAttribute("data-members-done"), await progress.getAttribute("data-members-total"));
    assert.ok(Number(await progress.getAttribute("data-bills-issued")) >= 1, "bills issued counted");
    assert.match(await text("close-result"), new RegExp(`Closed ${period} — .+ bills issued`));
    console.log(`  close: ${await text("close-result")}`);

    monthly = await page.locator(sel).getAttribute("data-bill-id");
    const row = `[data-testid="bill-row"][data-bill-id="${monthly}"]`;
    // D (¥1,800, bought while the page was disconnected), the book and what is left of the umbrella.
    assert.match(await textOf(`${row} [data-testid="bill-kind-cell"]`), new RegExp(`月まとめ払い[\\s\\S]*${period}`));
    const items = await textOf(`${row} [data-testid="bill-items-cell"]`);
    assert.match(items, /3 件 items · ¥5,300/);
    assert.match(items, /再接続テスト/);
    assert.match(items, /文庫本/);
    assert.equal(await textOf(`${row} [data-testid="bill-fee-cell"]`), "¥209");
    assert.equal(await textOf(`${row} [data-testid="bill-amount-cell"]`), "¥5,509");
    for (const pid of [d.promiseId, book.promiseId, umbrella.promiseId])
      await rowIs(`[data-testid="purchase-row"][data-promise-id="${pid}"]`, { "data-status": "BILLED" })();
    await assertNotReloaded();
  });

  step("J: money received in part (消込); the page's payment form pays the rest; a paid purchase cancelled becomes credit", async () => {
    const row = `[data-testid="bill-row"][data-bill-id="${monthly}"]`;
    // A provider reports ¥2,000 for the bill: it is paid in part and stays open.
    await outside(
      "J money received in part",
      "atone.v1.CommandService/ReceivePayment",
      { user_id: userId, transaction_id: randomUUID(), bill_id: monthly, amount: 2000 },
      (reply, t0) => {
        assert.deepEqual(reply.applications, [{ billId: monthly, amount: "2000", left: "3509" }]);
        return rowIs(`${row} [data-testid="bill-left-cell"]`, { text: "残額 left ¥3,509" })(LIVE_MS, t0);
      },
    );
    assert.match(await textOf(`${row} [data-testid="bill-paid-amount-cell"]`), /入金済 paid −¥2,000/);
    assert.equal(await page.locator(row).getAttribute("data-status"), "UNPAID", "paid in part, the bill stays open");
    await page.selectOption('[data-testid="payment-bill"]', monthly);
    assert.equal(await page.locator('[data-testid="payment-amount"]').inputValue(), "3509", "amount prefilled: what is left to pay");
    await submitAndWait("payment", "J monthly bill paid from the page's form", rowIs(row, { "data-status": "PAID", text: "支払済み" }));
    assert.match(await textOf(`${row} [data-testid="bill-paid-cell"]`), /^\d{4}-\d{2}-\d{2}$/);
    await rowIs(`[data-testid="purchase-row"][data-promise-id="${book.promiseId}"]`, { "data-status": "PAID" })();

    // The whole book, after payment: the promise is cancelled and its ¥1,500 is the member's.
    await page.selectOption('[data-testid="cancel-order"]', book.orderId);
    await page.fill('[data-testid="cancel-amount"]', "");
    const bookRow = `[data-testid="purchase-row"][data-promise-id="${book.promiseId}"]`;
    await submitAndWait("cancel", "J cancellation of a paid purchase", rowIs(bookRow, { "data-status": "CANCELLED", text: "キャンセル" }));
    assert.match(await textOf(`${bookRow} [data-testid="purchase-cancelled-cell"]`), /返品 −¥1,500/);
    await until("credit balance ¥1,500", () => document.querySelector('[data-testid="credit-balance"]').textContent === "¥1,500");
    assert.equal(
      await page.locator(`[data-testid="cancel-order"] option[value="${book.orderId}"]`).count(),
      0,
      "a cancelled order is no longer offered",
    );
    await assertNotReloaded();
  });

  step("K: an unpaid bill 70 days later: the daily billing marks it 延滞, the page turns red and refuses purchases", async () => {
    const late = await purchaseFromForm("延滞テスト: 電気ケトル", 2800, "IMMEDIATE");
    await page.selectOption('[data-testid="bill-promise"]', late.promiseId);
    const lateRow = `[data-testid="purchase-row"][data-promise-id="${late.promiseId}"]`;
    await submitAndWait("bill", "K immediate bill from the page's form", rowIs(lateRow, { "data-status": "BILLED" }));
    const lateBill = await page.locator(`[data-testid="bill-row"][data-promise-ids~="${late.promiseId}"]`).getAttribute("data-bill-id");
    assert.match(await textOf(`[data-testid="bill-row"][data-bill-id="${lateBill}"] [data-testid="bill-items-cell"]`), /電気ケトル/);
    assert.ok(await page.locator('[data-testid="overdue-banner"]').isHidden(), "nothing overdue yet");

    // Daily billing on, run at 0s after midnight: it runs at startup and marks what is past due.
    const up = await restartAtone(["--clock-offset", "70d", "--billing-run-at", "0s"]);
    const billRow = `[data-testid="bill-row"][data-bill-id="${lateBill}"]`;
    // Issued 32 days ahead, due 14 days later, 70 days ahead it is 24 days overdue: marked,
    // with the reminders of days 1, 7 and 14. So is the bill of E, unpaid since step E.
    const ms = await until(
      "the red 延滞 state",
      (sel) =>
        !document.querySelector('[data-testid="overdue-banner"]').hidden &&
        document.querySelector('[data-testid="member"]').dataset.overdue === "true" &&
        document.querySelector('[data-testid="overdue-bills"]').textContent === "2" &&
        document.querySelector(sel)?.dataset.status === "OVERDUE" &&
        /督促 3 回/.test(document.querySelector(`${sel} [data-testid="bill-overdue-cell"]`)?.textContent ?? ""),
      billRow,
      15000,
      up,
    );
    timings.push({ change: "K overdue after a restart with the daily billing", onPageAfterServerUpMs: ms });
    console.log(`  K overdue on the page ${ms} ms after atone was up again`);
    await liveAgain(up);
    assert.match(await textOf(`${billRow} [data-testid="bill-status-cell"]`), /延滞/);
    assert.equal(await page.locator(`${billRow} .badge.bad`).count(), 1, "the status is red");
    const dueDate = await textOf(`${billRow} [data-testid="bill-due-cell"]`);
    const since = new Date(Date.parse(`${dueDate}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
    assert.equal(await textOf(`${billRow} [data-testid="bill-overdue-cell"]`), `延滞 ${since}〜 overdue since\n督促 3 回 reminders`);
    assert.match(await text("overdue-banner"), /延滞中[\s\S]*2 bills past due: purchases are refused until paid/);
    const version = await text("member-version");
    const server = (await atone.grpc("atone.v1.QueryService/GetMember", { user_id: userId, min_version: version })).member;
    assert.equal(server.summary.version, version, "the page has the server's version");
    assert.equal(server.summary.overdueBills, "2");
    assert.equal(
      await page.locator('[data-testid="bill-row"][data-status="OVERDUE"]').count(),
      server.bills.filter((b) => b.status === "BILL_STATUS_OVERDUE").length,
    );

    // The page's purchase form shows the refusal.
    await page.fill('[data-testid="purchase-product-id"]', "sku-refused");
    await page.fill('[data-testid="purchase-product-name"]', "延滞中の購入");
    await page.fill('[data-testid="purchase-amount"]', "500");
    await page.click('[data-testid="purchase-submit"]');
    await page.locator('[data-testid="purchase-error"]').waitFor({ state: "visible", timeout: LIVE_MS });
    const refused = await text("purchase-error");
    console.log(`  purchase while overdue shows: ${refused}`);
    assert.match(refused, /FailedPrecondition: member has an overdue bill/);
    assert.equal(await page.locator('[data-testid="purchase-row"]', { hasText: "延滞中の購入" }).count(), 0);

    // An overdue bill is still paid through the payment form.
    await page.selectOption('[data-testid="payment-bill"]', lateBill);
    assert.equal(await page.locator('[data-testid="payment-amount"]').inputValue(), "2800");
    await submitAndWait("payment", "K overdue bill paid from the page's form", rowIs(billRow, { "data-status": "PAID", text: "支払済み" }));
    // The bill of E is still overdue: the red state stays (and shows in the screenshot).
    await until("overdue bills 1", () => document.querySelector('[data-testid="overdue-bills"]').textContent === "1");
    assert.ok(await page.locator('[data-testid="overdue-banner"]').isVisible());

    // Leave the purchase form ready for the screenshot, its refusal shown.
    await page.fill('[data-testid="purchase-product-id"]', "sku-0001");
    await page.fill('[data-testid="purchase-product-name"]', "");
    await page.fill('[data-testid="purchase-amount"]', "3000");
    await assertNotReloaded();
  });

  step("after the initial load, every request is a gRPC-Web POST to /atone.v1.*", async () => {
    const initial = requests.slice(0, loadedAt);
    const later = requests.slice(loadedAt);
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
});
