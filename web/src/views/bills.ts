// 請求状況: the member's bills, newest first: kind and month, items, fee, amount (what was
// paid, what is left), status (延滞 since, reminders, a failed debit), due and paid dates.
import { BillKind, BillStatus, type MemberBill, type MemberView } from "@atone/sdk";
import { $, badge, cls, h } from "../dom.js";
import { BILL_KIND, BILL_STATUS, date, shortId, yen } from "../format.js";
import type { Part, PageState } from "../state.js";
import type { Store } from "../store.js";

export function mountBills(store: Store<PageState, Part>): void {
  store.on(["member", "bills"], renderBills);
}

function renderBills(state: PageState): void {
  const m = state.member;
  if (!m) return;
  const bills = m.view.billList();
  $("bill-count").textContent = String(bills.length);
  $("bills-empty").hidden = bills.length > 0;
  $("bill-rows").replaceChildren(...bills.map((b) => billRow(b, m.view, m.touched.has(b.billId))));
}

/** The names of a bill's items, as its promises give them ("?" for one not known). */
function itemNames(b: MemberBill, view: MemberView): string {
  return b.promiseIds
    .map((id) => view.promises.get(id))
    .map((p) => (p ? p.productName || p.productId : "?"))
    .join("・");
}

function billRow(b: MemberBill, view: MemberView, touched: boolean): HTMLTableRowElement {
  const st = BILL_STATUS[b.status] ?? BILL_STATUS[BillStatus.UNSPECIFIED];
  const kind = BILL_KIND[b.kind] ?? BILL_KIND[BillKind.UNSPECIFIED];
  const names = itemNames(b, view);
  return h(
    "tr",
    {
      "data-testid": "bill-row",
      "data-bill-id": b.billId,
      "data-status": BillStatus[b.status],
      "data-kind": BillKind[b.kind],
      "data-period": b.period || undefined,
      "data-promise-ids": b.promiseIds.join(" "),
      class: cls(touched && "flash", b.status === BillStatus.OVERDUE && "row-bad", b.status === BillStatus.CANCELLED && "row-cancelled"),
    },
    h(
      "td",
      { "data-testid": "bill-kind-cell", title: b.billId },
      badge(kind.cls, kind.ja, kind.en, "bill-kind-badge"),
      h(
        "div",
        { class: "sub mono" },
        b.period && h("span", { class: "period nw", "data-testid": "bill-period-cell" }, `${b.period} 分`),
        b.period && " ",
        h("span", { class: "nw" }, shortId(b.billId)),
      ),
    ),
    h(
      "td",
      { "data-testid": "bill-items-cell" },
      h("div", {}, `${b.promiseIds.length} 件 `, h("span", { class: "en" }, "items"), ` · ${yen(b.itemsTotal)}`),
      h("div", { class: "sub items", title: names }, names),
      b.balanceApplied > 0n && h("div", { class: "sub", "data-testid": "bill-applied-cell" }, `残高充当 applied −${yen(b.balanceApplied)}`),
    ),
    h("td", { class: "num fee", "data-testid": "bill-fee-cell" }, yen(b.fee)),
    h(
      "td",
      { class: "num", "data-testid": "bill-amount-cell" },
      yen(b.amount),
      b.paidAmount > 0n && h("div", { class: "sub", "data-testid": "bill-paid-amount-cell" }, `入金済 paid −${yen(b.paidAmount)}`),
      b.leftToPay > 0n && b.paidAmount > 0n && h("div", { class: "sub left", "data-testid": "bill-left-cell" }, `残額 left ${yen(b.leftToPay)}`),
    ),
    h("td", {}, badge(st.cls, st.ja, st.en, "bill-status-cell"), overdueCell(b), debitFailureCell(b)),
    h(
      "td",
      {},
      h("div", { "data-testid": "bill-due-cell" }, date(b.dueDate)),
      h("div", { class: "sub" }, "発行 ", h("span", { class: "en" }, "issued"), " ", h("span", { class: "nw" }, date(b.issuedDate))),
    ),
    h("td", { "data-testid": "bill-paid-cell" }, date(b.paidDate)),
  );
}

/** Overdue since (still, or once) and the reminders sent. */
function overdueCell(b: MemberBill): HTMLElement | false {
  if (!b.overdueSince) return false;
  return h(
    "div",
    { class: cls("sub", b.status === BillStatus.OVERDUE ? "overdue-since" : "was-overdue"), "data-testid": "bill-overdue-cell" },
    h("div", {}, h("span", { class: "nw" }, `延滞 ${b.overdueSince}〜`), " ", h("span", { class: "en" }, "overdue since")),
    b.remindersSent > 0n && h("div", {}, `督促 ${b.remindersSent} 回 `, h("span", { class: "en" }, "reminders")),
  );
}

function debitFailureCell(b: MemberBill): HTMLElement | false {
  if (!b.debitFailure) return false;
  return h(
    "div",
    { class: "sub overdue-since", "data-testid": "bill-debit-failure-cell" },
    "振替不能 ",
    h("span", { class: "en" }, "debit failed"),
    ` ${b.debitFailure}`,
  );
}
