// The month from the page's forms (H–K): monthly purchases, a cancellation and the payment
// method; atone 32 days ahead, the close form bills the month and the payment form pays it;
// money received in part; 70 days ahead an unpaid bill turns the page red (延滞).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { assertNotReloaded, liveAgain, outside, purchaseFromForm, restartAtone, rowIs, submitAndWait, text, textOf, until } from "./helpers.mjs";
import { LIVE_MS, atone, made, page, timings, userId } from "./world.mjs";

/** H–K. */
export function monthSteps(step) {
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
    for (const pid of [made.d.promiseId, book.promiseId, umbrella.promiseId])
      await rowIs(`[data-testid="purchase-row"][data-promise-id="${pid}"]`, { "data-status": "BILLED" })();
    await assertNotReloaded();
  });

  step("J: money received in part (消込); the page's payment form pays the rest; a paid purchase cancelled becomes credit", async () => {
    const row = `[data-testid="bill-row"][data-bill-id="${monthly}"]`;
    // A change of the bill alone redraws the bills, not the purchases: a mark on a purchase
    // row stays.
    await page.evaluate(() => {
      document.querySelector('[data-testid="purchase-row"]').dataset.kept = "yes";
    });
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
    assert.equal(await page.locator('[data-testid="purchase-row"][data-kept="yes"]').count(), 1, "the purchases were drawn again");
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
}
