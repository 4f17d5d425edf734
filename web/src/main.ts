// atone's member page: credit, purchases and bills of one member, live over gRPC-Web.
// With authentication on, it shows what its credential allows: a member token its member,
// read only; an API key the forms its scopes allow (AuthService/WhoAmI says which).
import { Code, ConnectError } from "@connectrpc/connect";
import "./app.css";
import { auth, billing, clearCredential, command, hasCredential, loadCredential, newIdempotencyKey, setCredential } from "./api.js";
import { $, bi, h } from "./dom.js";
import { EventLog, eventRows } from "./events.js";
import {
  BILL_KIND,
  BILL_STATUS,
  EVENT_LABEL,
  METHOD,
  MODE,
  PAYABLE,
  PROMISE_STATUS,
  clock,
  date,
  previousMonthInJapan,
  shortId,
  timestamp,
  yen,
} from "./format.js";
import type { CloseBillingPeriodResponse } from "./gen/atone/v1/billing_pb.js";
import { SnapshotReason } from "./gen/atone/v1/query_pb.js";
import { BillKind, BillStatus, PaymentMethod, PaymentMode, PromiseStatus, type MemberBill } from "./gen/atone/v1/types_pb.js";
import { MemberState } from "./member.js";
import { describeError, startWatch, type ConnStatus } from "./watch.js";

let member: MemberState | undefined;
/** The member's event log, read while the 履歴 / Events tab is open. */
let eventLog: EventLog | undefined;
let stopWatch: (() => void) | undefined;
let countdown: number | undefined;
/** The payment method last shown in the method form (the form follows the server's). */
let methodShown: PaymentMethod | undefined;

/** Who the credential is (WhoAmI); undefined until known, or when there is none that works. */
interface Identity {
  kind: string;
  id: string;
  scopes: Set<string>;
}
let identity: Identity | undefined;

// ---------------------------------------------------------------- choosing the member

function userFromPath(): string {
  const m = /^\/user\/([^/]+)\/?$/.exec(location.pathname);
  if (!m) return "";
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return "";
  }
}

function openMember(userId: string, push: boolean): void {
  userId = userId.trim();
  stopWatch?.();
  stopWatch = undefined;
  member = undefined;
  methodShown = undefined;
  clearForms();
  $<HTMLInputElement>("user-input").value = userId;
  $("denied").hidden = true;
  if (push) {
    const path = userId ? `/user/${encodeURIComponent(userId)}` : "/";
    if (location.pathname !== path) history.pushState({ userId }, "", path);
  }
  if (!userId) {
    document.title = "atone — 会員ページ Member page";
    $("empty-state").hidden = false;
    $("member").hidden = true;
    setStatus(undefined);
    return;
  }
  document.title = `${userId} — atone 会員ページ`;
  member = new MemberState(userId);
  eventLog = new EventLog(userId);
  $("empty-state").hidden = true;
  $("member").hidden = false;
  $("member-id").textContent = userId;
  render();
  const current = member;
  stopWatch = startWatch(userId, {
    onMessage: (message) => {
      if (member !== current) return;
      current.apply(message);
      render();
    },
    onStatus: (s) => {
      if (member !== current) return;
      setStatus(s);
      if (s.state === "live") hideAuthPanel("refused");
      if (s.state === "failed" && s.code === Code.Unauthenticated) {
        $("member").hidden = true;
        askForCredential(s.error);
      }
      if (s.state === "failed" && s.code === Code.PermissionDenied) showDenied(current.userId, s.error);
    },
  });
}

$<HTMLFormElement>("member-form").addEventListener("submit", (e) => {
  e.preventDefault();
  openMember($<HTMLInputElement>("user-input").value, true);
});
window.addEventListener("popstate", () => openMember(userFromPath(), false));

// ---------------------------------------------------------------- connection status

function setStatus(s: ConnStatus | undefined): void {
  const el = $("conn-status");
  const text = el.querySelector(".conn-text")!;
  const banner = $("disconnected-banner");
  window.clearInterval(countdown);
  countdown = undefined;
  el.dataset.state = s?.state ?? "idle";
  if (s?.state === "down") {
    el.dataset.attempt = String(s.attempt);
    el.dataset.retryAt = String(s.retryAt);
  } else {
    delete el.dataset.attempt;
    delete el.dataset.retryAt;
  }
  text.replaceChildren();
  switch (s?.state) {
    case undefined:
      text.append(bi("未接続", "Not connected"));
      banner.hidden = true;
      break;
    case "connecting":
      text.append(bi("接続中…", "Connecting…"));
      break;
    case "live":
      text.append(bi("ライブ", "Live"));
      banner.hidden = true;
      break;
    case "down": {
      text.append(bi("切断", "Disconnected"));
      banner.hidden = false;
      const tick = () => {
        const left = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
        $("reconnect-detail").textContent =
          `再接続 ${s.attempt} 回目まで ${left} 秒 · retry #${s.attempt} in ${left}s · ${s.error}`;
      };
      tick();
      countdown = window.setInterval(tick, 500);
      break;
    }
    case "failed":
      // A refusal of the credential is said by the sign-in or the permission message.
      if (s.code === Code.Unauthenticated || s.code === Code.PermissionDenied) {
        text.append(bi("拒否", "Refused"));
        banner.hidden = true;
        break;
      }
      text.append(bi("エラー", "Error"));
      banner.hidden = false;
      $("reconnect-detail").textContent = `監視できません · cannot watch: ${s.error}`;
      break;
  }
}

// ---------------------------------------------------------------- rendering

function render(): void {
  if (!member) return;
  const m = member;
  const s = m.summary;
  const section = $("member");
  section.dataset.cursor = m.cursor;
  section.dataset.snapshots = String(m.snapshots);
  $("member-version").textContent = m.version.toString();
  $("last-updated").textContent = m.updatedAt ? clock(m.updatedAt) : "—";
  $("credit-limit").textContent = yen(s?.creditLimit);
  $("outstanding").textContent = yen(s?.outstandingAmount);
  $("available").textContent = yen(s?.availableCredit);
  const used = s && s.creditLimit > 0n ? Number((s.outstandingAmount * 1000n) / s.creditLimit) / 10 : 0;
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
  renderOverdue(overdueBills, m.billList().filter((b) => b.status === BillStatus.OVERDUE));
  if (s && s.paymentMethod !== methodShown) {
    methodShown = s.paymentMethod;
    $<HTMLSelectElement>("method-select").value = s.paymentMethod === PaymentMethod.BANK_DEBIT ? "BANK_DEBIT" : "CONVENIENCE_STORE";
  }

  const promises = m.promiseList();
  $("purchase-count").textContent = String(promises.length);
  $("purchases-empty").hidden = promises.length > 0;
  $("purchase-rows").replaceChildren(
    ...promises.map((p) => {
      const mode = MODE[p.paymentMode] ?? MODE[PaymentMode.UNSPECIFIED];
      const st = PROMISE_STATUS[p.status] ?? PROMISE_STATUS[PromiseStatus.UNSPECIFIED];
      return h(
        "tr",
        {
          "data-testid": "purchase-row",
          "data-order-id": p.orderId,
          "data-promise-id": p.promiseId,
          "data-status": PromiseStatus[p.status],
          class: cls(m.touched.has(p.promiseId) && "flash", p.status === PromiseStatus.CANCELLED && "row-cancelled"),
        },
        h("td", { class: "mono", title: `order ${p.orderId}\npromise ${p.promiseId}` }, shortId(p.orderId)),
        h("td", {}, h("div", { class: "product" }, p.productName || p.productId), h("div", { class: "sub mono" }, p.productId)),
        h(
          "td",
          { class: "num" },
          h("div", { "data-testid": "purchase-amount-cell" }, yen(p.amount)),
          p.cancelledAmount > 0n &&
            h("div", { class: "sub cancelled", "data-testid": "purchase-cancelled-cell" }, `返品 −${yen(p.cancelledAmount)}`),
        ),
        h("td", {}, date(p.dueDate)),
        h("td", {}, badge(mode.cls, mode.ja, mode.en, "purchase-mode-cell")),
        h("td", {}, badge(st.cls, st.ja, st.en, "purchase-status-cell")),
        h("td", { class: "sub" }, timestamp(p.purchasedAt)),
      );
    }),
  );

  const bills = m.billList();
  $("bill-count").textContent = String(bills.length);
  $("bills-empty").hidden = bills.length > 0;
  $("bill-rows").replaceChildren(
    ...bills.map((b) => {
      const st = BILL_STATUS[b.status] ?? BILL_STATUS[BillStatus.UNSPECIFIED];
      const kind = BILL_KIND[b.kind] ?? BILL_KIND[BillKind.UNSPECIFIED];
      const items = b.promiseIds.map((id) => m.promises.get(id));
      const names = items.map((p) => (p ? p.productName || p.productId : "?")).join("・");
      return h(
        "tr",
        {
          "data-testid": "bill-row",
          "data-bill-id": b.billId,
          "data-status": BillStatus[b.status],
          "data-kind": BillKind[b.kind],
          "data-period": b.period || undefined,
          "data-promise-ids": b.promiseIds.join(" "),
          class: cls(
            m.touched.has(b.billId) && "flash",
            b.status === BillStatus.OVERDUE && "row-bad",
            b.status === BillStatus.CANCELLED && "row-cancelled",
          ),
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
          b.leftToPay > 0n &&
            b.paidAmount > 0n &&
            h("div", { class: "sub left", "data-testid": "bill-left-cell" }, `残額 left ${yen(b.leftToPay)}`),
        ),
        h(
          "td",
          {},
          badge(st.cls, st.ja, st.en, "bill-status-cell"),
          b.overdueSince &&
            h(
              "div",
              {
                class: cls("sub", b.status === BillStatus.OVERDUE ? "overdue-since" : "was-overdue"),
                "data-testid": "bill-overdue-cell",
              },
              h("div", {}, h("span", { class: "nw" }, `延滞 ${b.overdueSince}〜`), " ", h("span", { class: "en" }, "overdue since")),
              b.remindersSent > 0n && h("div", {}, `督促 ${b.remindersSent} 回 `, h("span", { class: "en" }, "reminders")),
            ),
          b.debitFailure &&
            h(
              "div",
              { class: "sub overdue-since", "data-testid": "bill-debit-failure-cell" },
              "振替不能 ",
              h("span", { class: "en" }, "debit failed"),
              ` ${b.debitFailure}`,
            ),
        ),
        h(
          "td",
          {},
          h("div", { "data-testid": "bill-due-cell" }, date(b.dueDate)),
          h("div", { class: "sub" }, "発行 ", h("span", { class: "en" }, "issued"), " ", h("span", { class: "nw" }, date(b.issuedDate))),
        ),
        h("td", { "data-testid": "bill-paid-cell" }, date(b.paidDate)),
      );
    }),
  );

  const activity = $("activity");
  $("activity-empty").hidden = m.activity.length > 0 || m.snapshotReason === SnapshotReason.CURSOR_EXPIRED;
  activity.replaceChildren(
    ...(m.snapshotReason === SnapshotReason.CURSOR_EXPIRED
      ? [h("li", { class: "note", "data-testid": "cursor-expired" }, bi("最新の状態を再取得しました", "Cursor expired: reloaded the current state"))]
      : []),
    ...m.activity.map((a) =>
      h(
        "li",
        { "data-testid": "activity-item", "data-event-type": a.eventType },
        h("span", { class: "v mono" }, `v${a.version}`),
        h("span", { class: "ev" }, EVENT_LABEL[a.eventType] ?? "", " ", h("span", { class: "en" }, a.eventType)),
        h("span", { class: "t sub" }, clock(a.at)),
      ),
    ),
  );

  renderChoices();
  if (tab === "events") void refreshEvents();
}

// ---------------------------------------------------------------- 明細 / 履歴 tabs

type Tab = "overview" | "events";
let tab: Tab = "overview";

function showTab(next: Tab): void {
  tab = next;
  for (const button of document.querySelectorAll<HTMLButtonElement>('[role="tab"]')) {
    button.setAttribute("aria-selected", String(button.dataset.tab === next));
  }
  $("overview-tab").hidden = next !== "overview";
  $("events-tab").hidden = next !== "events";
  if (next === "events") void refreshEvents();
}

for (const button of document.querySelectorAll<HTMLButtonElement>('[role="tab"]')) {
  button.addEventListener("click", () => showTab(button.dataset.tab === "events" ? "events" : "overview"));
}

/** Reads the log up to the member's version and shows it. */
async function refreshEvents(): Promise<void> {
  const log = eventLog;
  if (!log || !member) return;
  await log.readUpTo(member.version);
  if (log !== eventLog) return;
  $("event-count").textContent = String(log.events.length);
  $("events-empty").hidden = log.events.length > 0 || log.error !== "";
  $("event-rows").replaceChildren(...eventRows(log));
  const error = $("events-error");
  error.hidden = log.error === "";
  error.textContent = log.error ? `読み込めません · cannot read the event log: ${log.error}` : "";
}

function badge(cls: string, ja: string, en: string, testid: string): HTMLElement {
  return h("span", { class: `badge ${cls}`, "data-testid": testid }, ja, " ", h("span", { class: "en" }, en));
}

function cls(...names: (string | false)[]): string | undefined {
  return names.filter(Boolean).join(" ") || undefined;
}

/** The red 延滞 state: while a bill is overdue the member cannot buy. */
function renderOverdue(count: bigint, overdue: MemberBill[]): void {
  const banner = $("overdue-banner");
  banner.hidden = count === 0n;
  if (count === 0n) return;
  const which = overdue.map((b) => `${shortId(b.billId)} ${yen(b.amount)} (期限 due ${b.dueDate})`).join(", ");
  $("overdue-detail").textContent =
    `${count} 件の請求が支払期限を過ぎています。お支払いまで新しいご購入はできません · ` +
    `${count} bill${count === 1n ? "" : "s"} past due: purchases are refused until paid` +
    (which ? ` — ${which}` : "");
}

/**
 * The bill form lists unbilled すぐ払い promises, the payment form bills that still ask for
 * money (unpaid, overdue, adjusted), the cancel form orders not cancelled yet.
 */
function renderChoices(): void {
  if (!member) return;
  const promiseSelect = $<HTMLSelectElement>("bill-promise");
  const unbilled = member
    .promiseList()
    .filter((p) => p.status === PromiseStatus.UNBILLED && p.paymentMode === PaymentMode.IMMEDIATE);
  fillSelect(
    promiseSelect,
    unbilled.map((p) => ({ value: p.promiseId, text: `${p.productName || p.productId} — ${yen(p.amount)} (${shortId(p.orderId)})` })),
    "請求できる支払約束はありません · No unbilled immediate promise",
  );
  $<HTMLButtonElement>("bill-submit").disabled = unbilled.length === 0;

  const billSelect = $<HTMLSelectElement>("payment-bill");
  const unpaid = member.billList().filter((b) => PAYABLE.has(b.status) && b.leftToPay > 0n);
  const before = billSelect.value;
  fillSelect(
    billSelect,
    unpaid.map((b) => {
      const kind = BILL_KIND[b.kind] ?? BILL_KIND[BillKind.UNSPECIFIED];
      const label = b.period ? `${kind.ja} ${b.period}` : kind.ja;
      const st = b.status === BillStatus.UNPAID ? "" : ` · ${BILL_STATUS[b.status].ja}`;
      return { value: b.billId, text: `${label} ${yen(b.leftToPay)} · 期限 due ${b.dueDate}${st} (${shortId(b.billId)})` };
    }),
    "未払いの請求はありません · No unpaid bill",
  );
  $<HTMLButtonElement>("payment-submit").disabled = unpaid.length === 0;
  // A new choice, or the chosen bill has another amount left now (adjusted by a cancellation,
  // or paid in part).
  const chosen = member.bills.get(billSelect.value);
  if (billSelect.value !== before || (chosen && chosen.leftToPay.toString() !== billSelect.dataset.amount)) syncPaymentAmount();

  const orderSelect = $<HTMLSelectElement>("cancel-order");
  const cancellable = member.promiseList().filter((p) => p.status !== PromiseStatus.CANCELLED && p.amount > 0n);
  fillSelect(
    orderSelect,
    cancellable.map((p) => {
      const st = PROMISE_STATUS[p.status] ?? PROMISE_STATUS[PromiseStatus.UNSPECIFIED];
      return { value: p.orderId, text: `${p.productName || p.productId} — ${yen(p.amount)} · ${st.ja} (${shortId(p.orderId)})` };
    }),
    "返品できる注文はありません · No order to cancel",
  );
  $<HTMLButtonElement>("cancel-submit").disabled = cancellable.length === 0;
}

function fillSelect(select: HTMLSelectElement, options: { value: string; text: string }[], emptyText: string): void {
  const keep = select.value;
  if (options.length === 0) {
    select.replaceChildren(h("option", { value: "" }, emptyText));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  select.replaceChildren(...options.map((o) => h("option", { value: o.value }, o.text)));
  if (options.some((o) => o.value === keep)) select.value = keep;
}

function syncPaymentAmount(): void {
  const select = $<HTMLSelectElement>("payment-bill");
  const bill = member?.bills.get(select.value);
  $<HTMLInputElement>("payment-amount").value = bill ? bill.leftToPay.toString() : "";
  select.dataset.amount = bill ? bill.leftToPay.toString() : "";
}
$<HTMLSelectElement>("payment-bill").addEventListener("change", syncPaymentAmount);

// ---------------------------------------------------------------- forms

/** Errors after which the same command may be retried with the same key. */
const TRANSIENT = new Set<Code>([Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Canceled, Code.Aborted]);

interface Pending {
  request: string;
  key: string;
}

/**
 * Wires a form: a fresh idempotency key per new command; a retry of the very same command
 * after a transport error reuses its key, so it cannot happen twice.
 */
function wireForm(name: string, run: (key: string) => Promise<string>, request: () => string): void {
  const form = $<HTMLFormElement>(`${name}-form`);
  const submit = $<HTMLButtonElement>(`${name}-submit`);
  const result = $(`${name}-result`);
  const error = $(`${name}-error`);
  let pending: Pending | undefined;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!member || submit.dataset.busy) return;
    const req = request();
    if (!pending || pending.request !== req) pending = { request: req, key: newIdempotencyKey() };
    const key = pending.key;
    submit.dataset.busy = "1";
    submit.disabled = true;
    error.hidden = true;
    result.hidden = true;
    try {
      result.textContent = await run(key);
      result.hidden = false;
      pending = undefined;
    } catch (err) {
      error.textContent = `エラー Error — ${describeError(err)}`;
      error.hidden = false;
      if (ConnectError.from(err).code === Code.Unauthenticated) askForCredential(describeError(err));
      if (!TRANSIENT.has(ConnectError.from(err).code)) pending = undefined;
    } finally {
      delete submit.dataset.busy;
      submit.disabled = false;
      renderChoices();
    }
  });
}

function clearForms(): void {
  for (const name of ["purchase", "bill", "payment", "cancel", "method", "close"]) {
    $(`${name}-result`).hidden = true;
    $(`${name}-error`).hidden = true;
  }
  $("close-progress").hidden = true;
}

function field(form: string, name: string): string {
  const el = $<HTMLFormElement>(`${form}-form`).elements.namedItem(name) as HTMLInputElement | HTMLSelectElement;
  return el.value.trim();
}

function amountOf(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new ConnectError("金額は正の整数で入力してください (amount must be a whole number of yen)", Code.InvalidArgument);
  return BigInt(value);
}

wireForm(
  "purchase",
  async (key) => {
    const r = await command.purchase({
      userId: member!.userId,
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
  "bill",
  async (key) => {
    const r = await command.issueImmediateBill({
      userId: member!.userId,
      promiseId: field("bill", "promise"),
      amount: 0n,
      idempotencyKey: key,
    });
    return `請求しました Bill issued — ${shortId(r.billId)}, 期限 due ${r.dueDate} (v${r.version})`;
  },
  () => field("bill", "promise"),
);

wireForm(
  "payment",
  async (key) => {
    const r = await command.completePayment({
      userId: member!.userId,
      billId: field("payment", "bill"),
      amount: amountOf(field("payment", "amount")),
      idempotencyKey: key,
    });
    return `支払いを記録しました Payment recorded (v${r.version})`;
  },
  () => `${field("payment", "bill")}\u0000${field("payment", "amount")}`,
);

wireForm(
  "cancel",
  async (key) => {
    const amount = field("cancel", "amount");
    const r = await command.cancelPurchase({
      userId: member!.userId,
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
  "method",
  async (key) => {
    const method = field("method", "method") === "BANK_DEBIT" ? PaymentMethod.BANK_DEBIT : PaymentMethod.CONVENIENCE_STORE;
    const r = await command.setPaymentMethod({ userId: member!.userId, method, idempotencyKey: key });
    return `変更しました Changed — ${METHOD[method].ja} ${METHOD[method].en} (v${r.version})`;
  },
  () => field("method", "method"),
);

// 締め (admin demo): closes a month for every member, showing the streamed progress. The
// close is idempotent per member, so it takes no idempotency key.
$<HTMLInputElement>("close-period").value = previousMonthInJapan();
wireForm(
  "close",
  async () => {
    const period = field("close", "period");
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
  },
  () => field("close", "period"),
);

// ---------------------------------------------------------------- the credential

const SCOPE_ADMIN = "admin";

/** May the credential make calls that need `scope` (admin has every scope)? */
function allowed(scope: string): boolean {
  return !!identity && (identity.scopes.has(scope) || identity.scopes.has(SCOPE_ADMIN));
}

/**
 * Whether CommandService answers at this address: the document says so (`atone query`
 * alone serves it with `elsewhere`, and then no form can work here).
 */
const commandsHere = document.querySelector('meta[name="atone-commands"]')?.getAttribute("content") !== "elsewhere";

/** Shows each form whose call the credential's scopes allow; a member token gets none. */
function applyScopes(): void {
  let any = false;
  for (const panel of document.querySelectorAll<HTMLElement>("[data-needs]")) {
    const ok = commandsHere && allowed(panel.dataset.needs ?? "");
    panel.hidden = !ok;
    any ||= ok;
  }
  $("commands-elsewhere").hidden = commandsHere;
  $("read-only").hidden = !commandsHere || !identity || any;
}

type WhoState = "checking" | "known" | "unauthenticated" | "error";

function renderIdentity(state: WhoState, detail = ""): void {
  const el = $("whoami");
  const text = $("whoami-text");
  el.dataset.state = state;
  el.dataset.kind = identity?.kind ?? "";
  el.dataset.id = identity?.id ?? "";
  el.title = detail;
  text.replaceChildren();
  if (state === "checking") text.append(bi("確認中…", "Checking…"));
  else if (state === "unauthenticated") text.append(bi("未認証", "Not signed in"));
  else if (state === "error") text.append(bi("認証情報を確認できません", "Cannot check the credential"));
  else if (identity?.kind === "unrestricted") text.append(bi("認証なし", "Authentication off"));
  else if (identity?.kind === "member") text.append(bi("会員", "Member"), " ", h("strong", { class: "mono" }, identity.id));
  else if (identity?.kind === "api-key")
    text.append(
      bi("APIキー", "API key"),
      " ",
      h("strong", { class: "mono" }, identity.id),
      " ",
      h("span", { class: "en" }, `(${[...identity.scopes].join(", ")})`),
    );
  else text.append(identity?.kind ?? "?", " ", identity?.id ?? "");
  $("sign-out").hidden = !hasCredential();
}

type AuthReason = "missing" | "refused" | "manual";

/** The credential panel: why it is asked for (none, refused), or opened by hand. */
function showAuthPanel(reason: AuthReason, detail = ""): void {
  const panel = $("auth-panel");
  panel.hidden = false;
  panel.dataset.reason = reason;
  const title = $("auth-title");
  const message = $("auth-message");
  switch (reason) {
    case "missing":
      title.replaceChildren(bi("認証が必要です", "Sign-in needed"));
      message.textContent =
        "会員トークンまたは APIキーを入力してください · This atone needs a credential: paste a member token or an API key.";
      break;
    case "refused":
      title.replaceChildren(bi("認証情報が受け付けられません", "Credential refused"));
      message.textContent = `期限切れか無効です。別の認証情報を入力してください · It is missing, expired or not valid; enter another one. (${detail})`;
      break;
    case "manual":
      title.replaceChildren(bi("認証情報", "Credential"));
      message.textContent = "会員トークンまたは APIキー · A member token or an API key.";
      break;
  }
}

/** UNAUTHENTICATED: asks for a credential (none was given, or the one given was refused). */
function askForCredential(detail: string): void {
  if (hasCredential()) showAuthPanel("refused", detail);
  else showAuthPanel("missing");
}

function hideAuthPanel(onlyIf?: AuthReason): void {
  const panel = $("auth-panel");
  if (onlyIf && panel.dataset.reason !== onlyIf && panel.dataset.reason !== "missing") return;
  panel.hidden = true;
  panel.dataset.reason = "";
}

function showDenied(userId: string, error: string): void {
  $("member").hidden = true;
  $("denied").hidden = false;
  const who = identity?.kind === "member" ? `会員 ${identity.id} のトークン · the member token of ${identity.id}` : "この認証情報 · this credential";
  $("denied-detail").textContent = `${who} では会員 ${userId} を表示できません (cannot view member ${userId}) — ${error}`;
}

let whoAmIRun = 0;

/**
 * Asks atone who the credential is (AuthService/WhoAmI), then shows the forms it allows.
 * Retries (with backoff) while atone cannot be reached; a member token with no member in
 * the address opens its member.
 */
async function refreshIdentity(): Promise<void> {
  const run = ++whoAmIRun;
  identity = undefined;
  renderIdentity("checking");
  applyScopes();
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await auth.whoAmI({});
      if (run !== whoAmIRun) return;
      identity = { kind: r.kind, id: r.id, scopes: new Set(r.scopes) };
      renderIdentity("known");
      applyScopes();
      hideAuthPanel("refused");
      if (identity.kind === "member" && !member) {
        openMember(identity.id, false);
        history.replaceState({ userId: identity.id }, "", `/user/${encodeURIComponent(identity.id)}`);
      }
      return;
    } catch (err) {
      if (run !== whoAmIRun) return;
      const e = ConnectError.from(err);
      if (e.code === Code.Unauthenticated) {
        renderIdentity("unauthenticated", describeError(err));
        applyScopes();
        askForCredential(describeError(err));
        return;
      }
      if (e.code === Code.Unimplemented) {
        // An atone without AuthService: no authentication; the server decides each call.
        identity = { kind: "unrestricted", id: "", scopes: new Set([SCOPE_ADMIN]) };
        renderIdentity("known");
        applyScopes();
        return;
      }
      renderIdentity("error", describeError(err));
      await new Promise((resolve) => setTimeout(resolve, Math.min(4000, 400 * 2 ** attempt)));
      if (run !== whoAmIRun) return;
    }
  }
}

/** A new credential (or none): ask who it is, and watch the member again with it. */
function credentialChanged(): void {
  const userId = member?.userId ?? userFromPath();
  hideAuthPanel();
  void refreshIdentity();
  openMember(userId, false);
}

$<HTMLFormElement>("credential-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("credential-input");
  const value = input.value.trim();
  input.value = "";
  if (!value) return;
  setCredential(value);
  credentialChanged();
});
$("credential-toggle").addEventListener("click", () => {
  if ($("auth-panel").hidden) {
    showAuthPanel("manual");
    $<HTMLInputElement>("credential-input").focus();
  } else {
    hideAuthPanel();
  }
});
$("credential-close").addEventListener("click", () => hideAuthPanel());
$("sign-out").addEventListener("click", () => {
  clearCredential();
  credentialChanged();
});
// A `#token=` pasted into the address bar of an open page.
window.addEventListener("hashchange", () => {
  if (!/(^#|&)token=/.test(location.hash)) return;
  loadCredential();
  credentialChanged();
});

// ---------------------------------------------------------------- start

loadCredential();
void refreshIdentity();
openMember(userFromPath(), false);
