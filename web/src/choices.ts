// What the forms offer: the bill form unbilled すぐ払い promises, the payment form bills
// that still ask for money (unpaid, overdue, adjusted), the cancel form orders not
// cancelled yet. Pure: the forms view puts them in their <select>s.
import { BillKind, BillStatus, PaymentMode, PromiseStatus, type MemberView } from "@atone/sdk";
import { BILL_KIND, BILL_STATUS, PAYABLE, PROMISE_STATUS, shortId, yen } from "./format.js";

export interface Choice {
  value: string;
  text: string;
}

export interface Choices {
  options: Choice[];
  /** Shown (disabled) when there is nothing to choose. */
  empty: string;
}

/** Unbilled すぐ払い promises, for an immediate bill. */
export function billablePromises(view: MemberView): Choices {
  const options = view
    .promiseList()
    .filter((p) => p.status === PromiseStatus.UNBILLED && p.paymentMode === PaymentMode.IMMEDIATE)
    .map((p) => ({ value: p.promiseId, text: `${p.productName || p.productId} — ${yen(p.amount)} (${shortId(p.orderId)})` }));
  return { options, empty: "請求できる支払約束はありません · No unbilled immediate promise" };
}

/** Bills with something left to pay, for a payment. */
export function payableBills(view: MemberView): Choices {
  const options = view
    .billList()
    .filter((b) => PAYABLE.has(b.status) && b.leftToPay > 0n)
    .map((b) => {
      const kind = BILL_KIND[b.kind] ?? BILL_KIND[BillKind.UNSPECIFIED];
      const label = b.period ? `${kind.ja} ${b.period}` : kind.ja;
      const st = b.status === BillStatus.UNPAID ? "" : ` · ${BILL_STATUS[b.status].ja}`;
      return { value: b.billId, text: `${label} ${yen(b.leftToPay)} · 期限 due ${b.dueDate}${st} (${shortId(b.billId)})` };
    });
  return { options, empty: "未払いの請求はありません · No unpaid bill" };
}

/** Orders with an amount left, for a cancellation (返品). */
export function cancellableOrders(view: MemberView): Choices {
  const options = view
    .promiseList()
    .filter((p) => p.status !== PromiseStatus.CANCELLED && p.amount > 0n)
    .map((p) => {
      const st = PROMISE_STATUS[p.status] ?? PROMISE_STATUS[PromiseStatus.UNSPECIFIED];
      return { value: p.orderId, text: `${p.productName || p.productId} — ${yen(p.amount)} · ${st.ja} (${shortId(p.orderId)})` };
    });
  return { options, empty: "返品できる注文はありません · No order to cancel" };
}

/** What is left to pay on bill `billId` ("" for no such bill): the payment form's amount. */
export function leftToPay(view: MemberView, billId: string): string {
  return view.bills.get(billId)?.leftToPay.toString() ?? "";
}
