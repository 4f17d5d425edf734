// How the page writes amounts, dates, labels and errors (Japanese with English beside it).
import { BillKind, BillStatus, PaymentMethod, PaymentMode, PromiseStatus, type MemberBill } from "@atone/sdk";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

export function yen(amount: bigint | undefined): string {
  if (amount === undefined) return "—";
  const sign = amount < 0n ? "-" : "";
  const abs = amount < 0n ? -amount : amount;
  return `${sign}¥${abs.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",")}`;
}

export function date(value: string): string {
  return value || "—";
}

const jst = new Intl.DateTimeFormat("ja-JP", {
  timeZone: "Asia/Tokyo",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
});
const jstTime = new Intl.DateTimeFormat("ja-JP", {
  timeZone: "Asia/Tokyo",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** A protobuf Timestamp as a Date (to the millisecond). */
export function timestampDate(ts: Timestamp): Date {
  return new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6));
}

export function timestamp(ts: Timestamp | undefined): string {
  if (!ts) return "—";
  return jst.format(timestampDate(ts));
}

export function clock(d: Date): string {
  return jstTime.format(d);
}

export function shortId(id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id;
}

type Label = { ja: string; en: string; cls: string };

export const MODE: Record<PaymentMode, Label> = {
  [PaymentMode.UNSPECIFIED]: { ja: "不明", en: "Unknown", cls: "muted" },
  [PaymentMode.IMMEDIATE]: { ja: "すぐ払い", en: "Immediate", cls: "immediate" },
  [PaymentMode.MONTHLY]: { ja: "月まとめ払い", en: "Monthly", cls: "monthly" },
};

export const METHOD: Record<PaymentMethod, Label> = {
  // A member who never chose pays at a convenience store (the server's default).
  [PaymentMethod.UNSPECIFIED]: { ja: "コンビニ払い", en: "Convenience store", cls: "neutral" },
  [PaymentMethod.CONVENIENCE_STORE]: { ja: "コンビニ払い", en: "Convenience store", cls: "neutral" },
  [PaymentMethod.BANK_DEBIT]: { ja: "口座振替", en: "Bank debit", cls: "neutral" },
};

export const BILL_KIND: Record<BillKind, Label> = {
  [BillKind.UNSPECIFIED]: { ja: "不明", en: "Unknown", cls: "muted" },
  [BillKind.IMMEDIATE]: { ja: "すぐ払い", en: "Immediate", cls: "immediate" },
  [BillKind.MONTHLY]: { ja: "月まとめ払い", en: "Monthly", cls: "monthly" },
};

export const PROMISE_STATUS: Record<PromiseStatus, Label> = {
  [PromiseStatus.UNSPECIFIED]: { ja: "不明", en: "Unknown", cls: "muted" },
  [PromiseStatus.UNBILLED]: { ja: "未請求", en: "Unbilled", cls: "neutral" },
  [PromiseStatus.BILLED]: { ja: "請求済み", en: "Billed", cls: "warn" },
  [PromiseStatus.PAID]: { ja: "支払済み", en: "Paid", cls: "ok" },
  [PromiseStatus.CANCELLED]: { ja: "キャンセル", en: "Cancelled", cls: "muted" },
};

export const BILL_STATUS: Record<BillStatus, Label> = {
  [BillStatus.UNSPECIFIED]: { ja: "不明", en: "Unknown", cls: "muted" },
  [BillStatus.UNPAID]: { ja: "未払い", en: "Unpaid", cls: "warn" },
  [BillStatus.PAID]: { ja: "支払済み", en: "Paid", cls: "ok" },
  [BillStatus.OVERDUE]: { ja: "延滞", en: "Overdue", cls: "bad" },
  [BillStatus.ADJUSTED]: { ja: "調整済み", en: "Adjusted", cls: "adjusted" },
  [BillStatus.CANCELLED]: { ja: "取消", en: "Cancelled", cls: "muted" },
};

/** Bills that still ask for money (CompletePayment takes them). */
export const PAYABLE = new Set<BillStatus>([BillStatus.UNPAID, BillStatus.OVERDUE, BillStatus.ADJUSTED]);

export const EVENT_LABEL: Record<string, string> = {
  PurchaseCompleted: "購入",
  PaymentPromiseCreated: "支払約束",
  MemberBillIssued: "請求発行",
  PaymentCompleted: "支払い完了",
  PaymentMethodChanged: "支払方法変更",
  MonthlyBillIssued: "月次請求発行",
  PurchaseCancelled: "返品",
  BillAdjusted: "請求調整",
  PaymentReceived: "入金",
  RefundIssued: "返金",
  BillOverdue: "延滞",
  ReminderIssued: "督促",
  CreditLimitChanged: "上限変更",
};

/** "YYYY-MM" of the month before the current one in Japan. */
export function previousMonthInJapan(now = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Tokyo", year: "numeric", month: "numeric" }).formatToParts(now);
  let year = Number(parts.find((p) => p.type === "year")?.value);
  let month = Number(parts.find((p) => p.type === "month")?.value) - 1;
  if (month === 0) {
    month = 12;
    year -= 1;
  }
  return `${year}-${String(month).padStart(2, "0")}`;
}

/** An error as the page shows it: `<gRPC code>: <atone's message>`. */
export function describeError(err: unknown): string {
  const e = ConnectError.from(err);
  return `${Code[e.code] ?? e.code}: ${e.rawMessage}`;
}

/** A form's amount: whole yen, or an InvalidArgument the form shows. */
export function amountOf(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new ConnectError("金額は正の整数で入力してください (amount must be a whole number of yen)", Code.InvalidArgument);
  return BigInt(value);
}

/** How much of the credit limit is in use, in percent to one decimal (0 without a limit). */
export function usedPercent(outstanding: bigint, limit: bigint): number {
  return limit > 0n ? Number((outstanding * 1000n) / limit) / 10 : 0;
}

/** The 延滞 banner's text: how many bills are past due (`count`), and which (`overdue`). */
export function overdueNotice(count: bigint, overdue: MemberBill[]): string {
  const which = overdue.map((b) => `${shortId(b.billId)} ${yen(b.amount)} (期限 due ${b.dueDate})`).join(", ");
  return (
    `${count} 件の請求が支払期限を過ぎています。お支払いまで新しいご購入はできません · ` +
    `${count} bill${count === 1n ? "" : "s"} past due: purchases are refused until paid` +
    (which ? ` — ${which}` : "")
  );
}
