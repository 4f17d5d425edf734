import type { MemberBill, MemberSummary, PaymentPromise } from "./gen/atone/v1/types_pb.js";
import type { WatchMemberResponse } from "./gen/atone/v1/query_pb.js";

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

  /** The member's stream version the view reflects. */
  get version(): bigint {
    return this.summary?.version ?? 0n;
  }

  /** Applies one WatchMember message. Applying a change twice is harmless. */
  apply(message: WatchMemberResponse): void {
    if (message.cursor) this.cursor = message.cursor;
    switch (message.kind.case) {
      case "snapshot": {
        const member = message.kind.value.member;
        this.summary = member?.summary;
        this.promises.clear();
        this.bills.clear();
        for (const p of member?.promises ?? []) this.promises.set(p.promiseId, p);
        for (const b of member?.bills ?? []) this.bills.set(b.billId, b);
        break;
      }
      case "change": {
        const change = message.kind.value;
        for (const p of change.promises) this.promises.set(p.promiseId, p);
        for (const b of change.bills) this.bills.set(b.billId, b);
        if (change.summary && change.summary.version >= this.version) this.summary = change.summary;
        break;
      }
      default:
        break;
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
