// choices.ts: what the bill, payment and cancel forms offer.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bill, promise, snapshot, summary } from "./fixtures.mjs";
import { load } from "./load.mjs";

const { choices, sdk } = await load();
const { PromiseStatus, PaymentMode, BillStatus, BillKind } = sdk;

function view(promises, bills = []) {
  const v = new sdk.MemberView();
  v.apply(snapshot("c1", { summary: summary(9n), promises, bills }));
  return v;
}

test("the bill form: unbilled すぐ払い promises only, newest first", () => {
  const v = view([
    promise("a", 1n, { productName: "イヤホン", amount: 4200n }),
    promise("monthly", 2n, { paymentMode: PaymentMode.MONTHLY }),
    promise("billed", 3n, { status: PromiseStatus.BILLED }),
    promise("b", 4n, { productName: "" }),
  ]);
  const c = choices.billablePromises(v);
  assert.deepEqual(c.options, [
    { value: "b", text: "sku-b — ¥1,000 (order-b)" },
    { value: "a", text: "イヤホン — ¥4,200 (order-a)" },
  ]);
  assert.deepEqual(choices.billablePromises(view([])).options, []);
  assert.match(c.empty, /No unbilled immediate promise/);
});

test("the payment form: bills with something left to pay, overdue and adjusted ones marked", () => {
  const v = view(
    [],
    [
      bill("bill-immediate-0001", 1n, { dueDate: "2025-05-10", leftToPay: 4200n }),
      bill("bill-monthly-00002", 2n, { kind: BillKind.MONTHLY, period: "2025-04", status: BillStatus.OVERDUE, dueDate: "2025-05-10", leftToPay: 5509n }),
      bill("paid", 3n, { status: BillStatus.PAID, leftToPay: 0n }),
      bill("adjusted-to-zero", 4n, { status: BillStatus.ADJUSTED, leftToPay: 0n }),
      bill("bill-adjusted-0005", 5n, { kind: BillKind.IMMEDIATE, status: BillStatus.ADJUSTED, dueDate: "2025-05-20", leftToPay: 300n }),
    ],
  );
  assert.deepEqual(choices.payableBills(v).options, [
    { value: "bill-adjusted-0005", text: "すぐ払い ¥300 · 期限 due 2025-05-20 · 調整済み (…ted-0005)" },
    { value: "bill-monthly-00002", text: "月まとめ払い 2025-04 ¥5,509 · 期限 due 2025-05-10 · 延滞 (…ly-00002)" },
    { value: "bill-immediate-0001", text: "不明 ¥4,200 · 期限 due 2025-05-10 (…ate-0001)" },
  ]);
  assert.equal(choices.leftToPay(v, "bill-monthly-00002"), "5509");
  assert.equal(choices.leftToPay(v, "no-such-bill"), "");
});

test("the cancel form: orders not cancelled with an amount left", () => {
  const v = view([
    promise("a", 1n, { productName: "傘", amount: 2000n, status: PromiseStatus.PAID }),
    promise("gone", 2n, { status: PromiseStatus.CANCELLED }),
    promise("zero", 3n, { amount: 0n }),
  ]);
  assert.deepEqual(choices.cancellableOrders(v).options, [{ value: "order-a", text: "傘 — ¥2,000 · 支払済み (order-a)" }]);
});
