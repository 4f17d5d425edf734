// MemberView, the fold of a WatchMember stream (compiled to dist/ by tsc first): what a
// snapshot and a change do to the state, and what `apply` says they changed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";

import { MemberView, SnapshotReason, WatchMemberResponseSchema } from "../dist/src/index.js";

const promise = (id, createdVersion, extra = {}) => ({ promiseId: id, orderId: `o-${id}`, amount: 1000n, createdVersion, ...extra });
const bill = (id, createdVersion, extra = {}) => ({ billId: id, amount: 1000n, createdVersion, ...extra });
const summary = (version, extra = {}) => ({ version, creditLimit: 50000n, ...extra });

const snapshot = (cursor, reason, member) =>
  create(WatchMemberResponseSchema, { cursor, kind: { case: "snapshot", value: { reason, member } } });
const change = (cursor, value) => create(WatchMemberResponseSchema, { cursor, kind: { case: "change", value } });

test("a snapshot replaces everything and reports every promise and bill", () => {
  const view = new MemberView();
  view.apply(snapshot("c1", SnapshotReason.INITIAL, { summary: summary(3n), promises: [promise("p-old", 1n)], bills: [bill("b-old", 2n)] }));
  const update = view.apply(
    snapshot("c9", SnapshotReason.CURSOR_EXPIRED, { summary: summary(9n), promises: [promise("p1", 4n), promise("p2", 7n)], bills: [] }),
  );
  assert.deepEqual(
    { kind: update.kind, reason: update.snapshotReason, promiseIds: update.promiseIds, billIds: update.billIds, summary: update.summary },
    { kind: "snapshot", reason: SnapshotReason.CURSOR_EXPIRED, promiseIds: ["p1", "p2"], billIds: [], summary: true },
  );
  assert.deepEqual([...view.promises.keys()], ["p1", "p2"], "the promises of the first snapshot are gone");
  assert.equal(view.bills.size, 0);
  assert.equal(view.version, 9n);
  assert.equal(view.cursor, "c9");
  assert.equal(view.snapshots, 2);
  assert.equal(view.snapshotReason, SnapshotReason.CURSOR_EXPIRED);
  assert.deepEqual(view.promiseList().map((p) => p.promiseId), ["p2", "p1"], "newest first");
});

test("a change updates what it lists and reports only that", () => {
  const view = new MemberView();
  view.apply(snapshot("c2", SnapshotReason.INITIAL, { summary: summary(2n), promises: [promise("p1", 1n)], bills: [] }));
  const update = view.apply(
    change("c3", { version: 3n, eventType: "MemberBillIssued", summary: summary(3n, { outstandingAmount: 1000n }), bills: [bill("b1", 3n)] }),
  );
  assert.equal(update.kind, "change");
  assert.equal(update.change.eventType, "MemberBillIssued");
  assert.deepEqual(update.promiseIds, []);
  assert.deepEqual(update.billIds, ["b1"]);
  assert.equal(update.summary, true);
  assert.equal(view.summary.outstandingAmount, 1000n);
  assert.equal(view.cursor, "c3");
  assert.equal(view.snapshots, 1);
  assert.deepEqual(view.billList().map((b) => b.billId), ["b1"]);
});

test("a change's older summary is not taken, and the same change twice is harmless", () => {
  const view = new MemberView();
  view.apply(snapshot("c5", SnapshotReason.INITIAL, { summary: summary(5n), promises: [], bills: [] }));
  const stale = change("c4", { version: 4n, eventType: "PurchaseCompleted", summary: summary(4n), promises: [promise("p1", 4n)] });
  const update = view.apply(stale);
  assert.equal(update.summary, false);
  assert.equal(view.version, 5n);
  view.apply(stale);
  assert.equal(view.promises.size, 1);
});

test("a message of no known kind changes nothing but the cursor", () => {
  const view = new MemberView();
  const update = view.apply(create(WatchMemberResponseSchema, { cursor: "c1" }));
  assert.deepEqual(update, { kind: "none", promiseIds: [], billIds: [], summary: false });
  assert.equal(view.cursor, "c1");
  assert.equal(view.summary, undefined);
});
