import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { BillStatus, PaymentMode, PromiseStatus } from "./gen/atone/v1/types_pb.js";

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

export function timestamp(ts: Timestamp | undefined): string {
  if (!ts) return "—";
  return jst.format(new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6)));
}

export function clock(d: Date): string {
  return jstTime.format(d);
}

export function shortId(id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id;
}

export const MODE: Record<PaymentMode, { ja: string; en: string; cls: string }> = {
  [PaymentMode.UNSPECIFIED]: { ja: "不明", en: "Unknown", cls: "muted" },
  [PaymentMode.IMMEDIATE]: { ja: "すぐ払い", en: "Immediate", cls: "immediate" },
  [PaymentMode.MONTHLY]: { ja: "月まとめ払い", en: "Monthly", cls: "monthly" },
};

export const PROMISE_STATUS: Record<PromiseStatus, { ja: string; en: string; cls: string }> = {
  [PromiseStatus.UNSPECIFIED]: { ja: "不明", en: "Unknown", cls: "muted" },
  [PromiseStatus.UNBILLED]: { ja: "未請求", en: "Unbilled", cls: "neutral" },
  [PromiseStatus.BILLED]: { ja: "請求済み", en: "Billed", cls: "warn" },
  [PromiseStatus.PAID]: { ja: "支払済み", en: "Paid", cls: "ok" },
};

export const BILL_STATUS: Record<BillStatus, { ja: string; en: string; cls: string }> = {
  [BillStatus.UNSPECIFIED]: { ja: "不明", en: "Unknown", cls: "muted" },
  [BillStatus.UNPAID]: { ja: "未払い", en: "Unpaid", cls: "warn" },
  [BillStatus.PAID]: { ja: "支払済み", en: "Paid", cls: "ok" },
};

export const EVENT_LABEL: Record<string, string> = {
  PurchaseCompleted: "購入",
  PaymentPromiseCreated: "支払約束",
  MemberBillIssued: "請求発行",
  PaymentCompleted: "支払い完了",
};
