// The page live: changes made outside the page (A–C, E) appear within 2 s without a
// reload; the 履歴 Events tab; atone stopped (the disconnection shown) and restarted (the
// watch resumes from its cursor, missing nothing); a CURSOR_EXPIRED snapshot; switching
// members and Back.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { assertNotReloaded, liveAgain, outside, rowIs, text, until, yen } from "./helpers.mjs";
import { LIVE_MS, atone, made, page, timings, userId } from "./world.mjs";

/** Outside changes, the Events tab, a restart (D, made while disconnected, is in made.d). */
export function liveSteps(step) {
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

  step("after a restart on the same port and database it resumes from its cursor and misses nothing", async () => {
    await atone.start();
    const restarted = Date.now();
    // A change made while the page is still disconnected: it can only arrive through the
    // cursor the page resumes from.
    const d = await atone.grpc("atone.v1.CommandService/Purchase", {
      user_id: userId,
      product_id: "sku-d",
      product_name: "再接続テスト",
      amount: 1800,
      payment_mode: "PAYMENT_MODE_MONTHLY",
      idempotency_key: randomUUID(),
    });
    made.d = d;
    const stillDown = await page.evaluate(() => document.querySelector('[data-testid="conn-status"]').dataset.state);
    assert.equal(stillDown, "down", "D was meant to be made while the page was disconnected");
    const dMs = await rowIs(`[data-testid="purchase-row"][data-promise-id="${d.promiseId}"]`, { text: "再接続テスト" })(
      15000,
      restarted,
    );
    await liveAgain(restarted);
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
}

/** After the forms: a CURSOR_EXPIRED snapshot, and switching members. */
export function recoverySteps(step) {
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
}
