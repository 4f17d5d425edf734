// The forms that send commands: purchase, immediate bill, payment, 返品 cancellation,
// 支払方法 payment method, and 締め (closing a month, an admin demo).
import { PaymentMethod, PaymentMode, type CloseBillingPeriodResponse } from "@atone/sdk";
import { Code, ConnectError } from "@connectrpc/connect";
import { billing, command } from "../api.js";
import { $ } from "../dom.js";
import { METHOD, amountOf, previousMonthInJapan, shortId, yen } from "../format.js";
import type { Part, PageState } from "../state.js";
import type { Store } from "../store.js";
import { field, wireForm } from "./forms.js";

export function mountCommands(store: Store<PageState, Part>): void {
  const userId = () => store.state.member?.userId ?? "";

  wireForm(
    store,
    "purchase",
    async (key) => {
      const r = await command.purchase({
        userId: userId(),
        productId: field("purchase", "productId"),
        productName: field("purchase", "productName"),
        amount: amountOf(field("purchase", "amount")),
        paymentMode: field("purchase", "mode") === "MONTHLY" ? PaymentMode.MONTHLY : PaymentMode.IMMEDIATE,
        idempotencyKey: key,
      });
      return `受付 Accepted — 注文 order ${shortId(r.orderId)}, 期限 due ${r.dueDate} (v${r.version})`;
    },
    () => ["productId", "productName", "amount", "mode"].map((n) => field("purchase", n)).join("\u0000"),
  );

  wireForm(
    store,
    "bill",
    async (key) => {
      const r = await command.issueImmediateBill({ userId: userId(), promiseId: field("bill", "promise"), amount: 0n, idempotencyKey: key });
      return `請求しました Bill issued — ${shortId(r.billId)}, 期限 due ${r.dueDate} (v${r.version})`;
    },
    () => field("bill", "promise"),
  );

  wireForm(
    store,
    "payment",
    async (key) => {
      const r = await command.completePayment({
        userId: userId(),
        billId: field("payment", "bill"),
        amount: amountOf(field("payment", "amount")),
        idempotencyKey: key,
      });
      return `支払いを記録しました Payment recorded (v${r.version})`;
    },
    () => `${field("payment", "bill")}\u0000${field("payment", "amount")}`,
  );

  wireForm(
    store,
    "cancel",
    async (key) => {
      const amount = field("cancel", "amount");
      const r = await command.cancelPurchase({
        userId: userId(),
        orderId: field("cancel", "order"),
        amount: amount === "" ? 0n : amountOf(amount),
        idempotencyKey: key,
      });
      $<HTMLInputElement>("cancel-amount").value = "";
      return r.remainingAmount === 0n
        ? `返品しました Cancelled — 注文全体 whole order (v${r.version})`
        : `返品しました Cancelled — 残り remaining ${yen(r.remainingAmount)} (v${r.version})`;
    },
    () => `${field("cancel", "order")}\u0000${field("cancel", "amount")}`,
  );

  wireForm(
    store,
    "method",
    async (key) => {
      const method = field("method", "method") === "BANK_DEBIT" ? PaymentMethod.BANK_DEBIT : PaymentMethod.CONVENIENCE_STORE;
      const r = await command.setPaymentMethod({ userId: userId(), method, idempotencyKey: key });
      return `変更しました Changed — ${METHOD[method].ja} ${METHOD[method].en} (v${r.version})`;
    },
    () => field("method", "method"),
  );
  followPaymentMethod(store);

  // The close is idempotent per member, so it takes no idempotency key.
  $<HTMLInputElement>("close-period").value = previousMonthInJapan();
  wireForm(store, "close", () => closeMonth(field("close", "period")), () => field("close", "period"));
}

/** The method form shows the member's payment method whenever atone's changes. */
function followPaymentMethod(store: Store<PageState, Part>): void {
  let shown: PaymentMethod | undefined;
  store.on(["member"], () => (shown = undefined));
  store.on(["member", "summary"], (state) => {
    const method = state.member?.view.summary?.paymentMethod;
    if (method === undefined || method === shown) return;
    shown = method;
    $<HTMLSelectElement>("method-select").value = method === PaymentMethod.BANK_DEBIT ? "BANK_DEBIT" : "CONVENIENCE_STORE";
  });
}

/** 締め: closes `period` for every member, showing the streamed progress. */
async function closeMonth(period: string): Promise<string> {
  const progress = $("close-progress");
  const fill = $("close-progress-fill");
  const text = $("close-progress-text");
  progress.hidden = false;
  progress.dataset.done = "false";
  fill.style.width = "0%";
  text.textContent = `${period} を締めています… · closing…`;
  let last: CloseBillingPeriodResponse | undefined;
  try {
    for await (const p of billing.closeBillingPeriod({ period })) {
      last = p;
      const pct = p.membersTotal > 0n ? Number((p.membersDone * 100n) / p.membersTotal) : 100;
      fill.style.width = `${p.done ? 100 : pct}%`;
      progress.dataset.done = String(p.done);
      progress.dataset.membersDone = p.membersDone.toString();
      progress.dataset.membersTotal = p.membersTotal.toString();
      progress.dataset.billsIssued = p.billsIssued.toString();
      text.textContent = `会員 ${p.membersDone}/${p.membersTotal} members · 請求 ${p.billsIssued} bills`;
    }
  } catch (err) {
    progress.hidden = true;
    throw err;
  }
  if (!last?.done) throw new ConnectError("the close ended before its last message", Code.Unavailable);
  return `締めました Closed ${last.period} — 会員 ${last.membersTotal} members, 請求 ${last.billsIssued} bills issued`;
}
