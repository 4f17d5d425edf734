import type { MemberBill, MemberSummary, PaymentPromise } from "./gen/atone/v1/types_pb.js";
import type { MemberChange, SnapshotReason, WatchMemberResponse } from "./gen/atone/v1/query_pb.js";

/**
 * What one WatchMember message changed in a `MemberView` (what `apply` returns): enough to
 * redraw only the parts of a display the message touched.
 */
export interface MemberViewUpdate {
  /**
   * `snapshot`: the member's state was replaced; `change`: the promises, bills and summary
   * listed here were updated; `none`: a message of a kind this view does not know.
   */
  kind: "snapshot" | "change" | "none";
  /** The snapshot's reason (INITIAL, or CURSOR_EXPIRED: the missed changes are gone). */
  snapshotReason?: SnapshotReason;
  /** The change applied, for a `change`. */
  change?: MemberChange;
  /** The ids of the promises the message set: every promise, for a snapshot. */
  promiseIds: string[];
  /** The ids of the bills the message set: every bill, for a snapshot. */
  billIds: string[];
  /** Whether the summary was replaced (a change's older summary is not taken). */
  summary: boolean;
}

/**
 * A member's state as a WatchMember stream describes it: a snapshot replaces everything,
 * a change updates the promises and bills it touched and the credit summary.
 */
export class MemberView {
  summary: MemberSummary | undefined;
  readonly promises = new Map<string, PaymentPromise>();
  readonly bills = new Map<string, MemberBill>();
  /** The cursor of the last message applied; resume a watch with it. */
  cursor = "";
  /** The reason of the last snapshot applied (undefined before the first). */
  snapshotReason: SnapshotReason | undefined;
  /** Snapshots applied: 1 for a watch that resumed without a gap, more after a CURSOR_EXPIRED. */
  snapshots = 0;

  /** The member's stream version the view reflects. */
  get version(): bigint {
    return this.summary?.version ?? 0n;
  }

  /**
   * Applies one WatchMember message and says what it changed. Applying a change twice is
   * harmless.
   */
  apply(message: WatchMemberResponse): MemberViewUpdate {
    if (message.cursor) this.cursor = message.cursor;
    switch (message.kind.case) {
      case "snapshot": {
        const { member, reason } = message.kind.value;
        this.summary = member?.summary;
        this.snapshotReason = reason;
        this.snapshots += 1;
        this.promises.clear();
        this.bills.clear();
        for (const p of member?.promises ?? []) this.promises.set(p.promiseId, p);
        for (const b of member?.bills ?? []) this.bills.set(b.billId, b);
        return {
          kind: "snapshot",
          snapshotReason: reason,
          promiseIds: [...this.promises.keys()],
          billIds: [...this.bills.keys()],
          summary: true,
        };
      }
      case "change": {
        const change = message.kind.value;
        for (const p of change.promises) this.promises.set(p.promiseId, p);
        for (const b of change.bills) this.bills.set(b.billId, b);
        const summary = !!change.summary && change.summary.version >= this.version;
        if (summary) this.summary = change.summary;
        return {
          kind: "change",
          change,
          promiseIds: change.promises.map((p) => p.promiseId),
          billIds: change.bills.map((b) => b.billId),
          summary,
        };
      }
      default:
        return { kind: "none", promiseIds: [], billIds: [], summary: false };
    }
  }

  /** Promises, newest first. */
  promiseList(): PaymentPromise[] {
    return [...this.promises.values()].sort((a, b) => compareDesc(a.createdVersion, b.createdVersion));
  }

  /** Bills, newest first. */
  billList(): MemberBill[] {
    return [...this.bills.values()].sort((a, b) => compareDesc(a.createdVersion, b.createdVersion));
  }
}

function compareDesc(a: bigint, b: bigint): number {
  return a === b ? 0 : a > b ? -1 : 1;
}
