// The member's state, folded from the WatchMember stream.
import type { MemberBill, MemberSummary, PaymentPromise } from "./gen/atone/v1/types_pb.js";
import { SnapshotReason, type MemberChange, type WatchMemberResponse } from "./gen/atone/v1/query_pb.js";

export interface Activity {
  version: bigint;
  eventType: string;
  at: Date;
}

export class MemberState {
  summary: MemberSummary | undefined;
  promises = new Map<string, PaymentPromise>();
  bills = new Map<string, MemberBill>();
  activity: Activity[] = [];
  /** Promise and bill ids the last message touched (to highlight them). */
  touched = new Set<string>();
  cursor = "";
  snapshotReason: SnapshotReason | undefined;
  /** Snapshots received: 1 normally; more after a CURSOR_EXPIRED. */
  snapshots = 0;
  updatedAt: Date | undefined;

  constructor(readonly userId: string) {}

  get version(): bigint {
    return this.summary?.version ?? 0n;
  }

  apply(message: WatchMemberResponse): void {
    if (message.cursor) this.cursor = message.cursor;
    this.touched = new Set();
    this.updatedAt = new Date();
    switch (message.kind.case) {
      case "snapshot": {
        // INITIAL, or CURSOR_EXPIRED (the missed changes are gone): replace everything.
        const member = message.kind.value.member;
        this.snapshotReason = message.kind.value.reason;
        this.snapshots += 1;
        this.summary = member?.summary;
        this.promises = new Map((member?.promises ?? []).map((p) => [p.promiseId, p]));
        this.bills = new Map((member?.bills ?? []).map((b) => [b.billId, b]));
        break;
      }
      case "change":
        this.applyChange(message.kind.value);
        break;
      default:
        break;
    }
  }

  private applyChange(change: MemberChange): void {
    for (const p of change.promises) {
      this.promises.set(p.promiseId, p);
      this.touched.add(p.promiseId);
    }
    for (const b of change.bills) {
      this.bills.set(b.billId, b);
      this.touched.add(b.billId);
    }
    if (change.summary && change.summary.version >= this.version) this.summary = change.summary;
    const at = change.occurredAt
      ? new Date(Number(change.occurredAt.seconds) * 1000 + Math.floor(change.occurredAt.nanos / 1e6))
      : new Date();
    this.activity.unshift({ version: change.version, eventType: change.eventType, at });
    this.activity.length = Math.min(this.activity.length, 30);
  }

  promiseList(): PaymentPromise[] {
    return [...this.promises.values()].sort((a, b) => desc(a.createdVersion, b.createdVersion));
  }

  billList(): MemberBill[] {
    return [...this.bills.values()].sort((a, b) => desc(a.createdVersion, b.createdVersion));
  }
}

function desc(a: bigint, b: bigint): number {
  return a === b ? 0 : a > b ? -1 : 1;
}
