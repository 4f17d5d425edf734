// WatchMember messages and member states for the unit tests.
import { load } from "./load.mjs";

const { sdk, create } = await load();

export const promise = (id, createdVersion, extra = {}) =>
  create(sdk.PaymentPromiseSchema, {
    promiseId: id,
    orderId: `order-${id}`,
    productId: `sku-${id}`,
    amount: 1000n,
    status: sdk.PromiseStatus.UNBILLED,
    paymentMode: sdk.PaymentMode.IMMEDIATE,
    createdVersion,
    ...extra,
  });

export const bill = (id, createdVersion, extra = {}) =>
  create(sdk.MemberBillSchema, { billId: id, amount: 1000n, leftToPay: 1000n, status: sdk.BillStatus.UNPAID, createdVersion, ...extra });

export const summary = (version, extra = {}) => create(sdk.MemberSummarySchema, { version, creditLimit: 50000n, ...extra });

export const snapshot = (cursor, member, reason = sdk.SnapshotReason.INITIAL) =>
  create(sdk.WatchMemberResponseSchema, { cursor, kind: { case: "snapshot", value: { reason, member } } });

export const change = (cursor, value) => create(sdk.WatchMemberResponseSchema, { cursor, kind: { case: "change", value } });

/** A fresh event log that is never read (state tests do not read it). */
export const noEvents = (eventlog, userId = "u1") =>
  new eventlog.EventLog({ listMemberEvents: () => Promise.reject(new Error("not read here")) }, userId);
