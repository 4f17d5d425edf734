// 購入履歴: the member's purchases (payment promises), newest first; the rows the last
// message changed are highlighted.
import { PaymentMode, PromiseStatus, type PaymentPromise } from "@atone/sdk";
import { $, badge, cls, h } from "../dom.js";
import { MODE, PROMISE_STATUS, date, shortId, timestamp, yen } from "../format.js";
import type { Part, PageState } from "../state.js";
import type { Store } from "../store.js";

export function mountPurchases(store: Store<PageState, Part>): void {
  store.on(["member", "purchases"], renderPurchases);
}

function renderPurchases(state: PageState): void {
  const m = state.member;
  if (!m) return;
  const promises = m.view.promiseList();
  $("purchase-count").textContent = String(promises.length);
  $("purchases-empty").hidden = promises.length > 0;
  $("purchase-rows").replaceChildren(...promises.map((p) => purchaseRow(p, m.touched.has(p.promiseId))));
}

function purchaseRow(p: PaymentPromise, touched: boolean): HTMLTableRowElement {
  const mode = MODE[p.paymentMode] ?? MODE[PaymentMode.UNSPECIFIED];
  const st = PROMISE_STATUS[p.status] ?? PROMISE_STATUS[PromiseStatus.UNSPECIFIED];
  return h(
    "tr",
    {
      "data-testid": "purchase-row",
      "data-order-id": p.orderId,
      "data-promise-id": p.promiseId,
      "data-status": PromiseStatus[p.status],
      class: cls(touched && "flash", p.status === PromiseStatus.CANCELLED && "row-cancelled"),
    },
    h("td", { class: "mono", title: `order ${p.orderId}\npromise ${p.promiseId}` }, shortId(p.orderId)),
    h("td", {}, h("div", { class: "product" }, p.productName || p.productId), h("div", { class: "sub mono" }, p.productId)),
    h(
      "td",
      { class: "num" },
      h("div", { "data-testid": "purchase-amount-cell" }, yen(p.amount)),
      p.cancelledAmount > 0n && h("div", { class: "sub cancelled", "data-testid": "purchase-cancelled-cell" }, `返品 −${yen(p.cancelledAmount)}`),
    ),
    h("td", {}, date(p.dueDate)),
    h("td", {}, badge(mode.cls, mode.ja, mode.en, "purchase-mode-cell")),
    h("td", {}, badge(st.cls, st.ja, st.en, "purchase-status-cell")),
    h("td", { class: "sub" }, timestamp(p.purchasedAt)),
  );
}
