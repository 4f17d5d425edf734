// The member's head (id, version, last update), credit cards, account facts and the red
// 延滞 banner. Drawn on every message: each one moves the version.
import { BillStatus, PaymentMethod, type MemberBill } from "@atone/sdk";
import { $, bi, h } from "../dom.js";
import { METHOD, clock, overdueNotice, usedPercent, yen } from "../format.js";
import type { Part, PageState } from "../state.js";
import type { Store } from "../store.js";

export function mountSummary(store: Store<PageState, Part>): void {
  store.on(["member", "summary"], renderSummary);
}

function renderSummary(state: PageState): void {
  const m = state.member;
  if (!m) return;
  const s = m.view.summary;
  const section = $("member");
  section.dataset.cursor = m.view.cursor;
  section.dataset.snapshots = String(m.view.snapshots);
  $("member-id").textContent = m.userId;
  $("member-version").textContent = m.view.version.toString();
  $("last-updated").textContent = m.updatedAt ? clock(m.updatedAt) : "—";
  $("credit-limit").textContent = yen(s?.creditLimit);
  $("outstanding").textContent = yen(s?.outstandingAmount);
  $("available").textContent = yen(s?.availableCredit);
  const used = s ? usedPercent(s.outstandingAmount, s.creditLimit) : 0;
  const meter = $("usage-meter");
  meter.style.width = `${Math.min(100, used)}%`;
  meter.title = `${used}% 利用中 used`;

  const method = METHOD[s?.paymentMethod ?? PaymentMethod.UNSPECIFIED] ?? METHOD[PaymentMethod.UNSPECIFIED];
  const account = s?.bankAccount;
  $("payment-method").replaceChildren(
    s ? bi(method.ja, method.en) : "—",
    account
      ? h("div", { class: "sub", "data-testid": "bank-account" }, `口座 ${account.bankCode}-${account.branchCode} ${account.accountNumber} ${account.holder}`)
      : "",
  );
  $("payment-method").dataset.method = PaymentMethod[s?.paymentMethod ?? PaymentMethod.UNSPECIFIED];
  $("credit-balance").textContent = yen(s?.creditBalance);
  $("unapplied-balance").textContent = yen(s?.unappliedBalance);
  const overdueBills = s?.overdueBills ?? 0n;
  $("overdue-bills").textContent = s ? overdueBills.toString() : "—";
  $("overdue-fact").classList.toggle("bad", overdueBills > 0n);
  section.dataset.overdue = String(overdueBills > 0n);
  renderOverdue(overdueBills, m.view.billList().filter((b) => b.status === BillStatus.OVERDUE));
}

/** The red 延滞 state: while a bill is overdue the member cannot buy. */
function renderOverdue(count: bigint, overdue: MemberBill[]): void {
  const banner = $("overdue-banner");
  banner.hidden = count === 0n;
  if (count > 0n) $("overdue-detail").textContent = overdueNotice(count, overdue);
}
