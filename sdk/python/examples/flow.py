#!/usr/bin/env python3
"""atone SDK example: purchase -> immediate bill -> payment, while watching the member.

    python examples/flow.py 127.0.0.1:50051

Opens WatchMember first, then runs the three commands over gRPC and waits until the stream
has delivered each resulting change. Exits 0 when it has seen all three; exits 1 with a
message on an error or when the deadline passes.

Environment: ATONE_TARGET (default 127.0.0.1:50051; or the first argument), ATONE_USER_ID
(default: a fresh member), ATONE_EXAMPLE_DEADLINE_S (default 20).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
import uuid

import grpc

from atone import AtoneClient, MemberView, ResumableWatch, new_idempotency_key
from atone.v1 import command_pb2, query_pb2, types_pb2

TARGET = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ATONE_TARGET", "127.0.0.1:50051")
USER_ID = os.environ.get("ATONE_USER_ID") or f"sdk-py-{uuid.uuid4().hex[:8]}"
DEADLINE_S = float(os.environ.get("ATONE_EXAMPLE_DEADLINE_S", "20"))


class Failed(Exception):
    pass


def main() -> None:
    deadline = time.monotonic() + DEADLINE_S
    view = MemberView()
    changes: list[query_pb2.MemberChange] = []
    inbox: "queue.Queue[object]" = queue.Queue()
    last_disconnect = [""]

    def on_disconnect(err: grpc.RpcError, retry_in: float) -> None:
        last_disconnect[0] = f"{err.code().name}: {err.details()}"
        print(f"watch: disconnected ({last_disconnect[0]}); retrying in {retry_in:.1f} s", flush=True)

    with AtoneClient(TARGET) as atone:
        # 1. Watch the member: a snapshot first, then one change per read-model change.
        watch = ResumableWatch(atone.query, USER_ID, on_disconnect=on_disconnect)

        def pump() -> None:
            try:
                for message in watch:
                    inbox.put(message)
            except grpc.RpcError as err:
                inbox.put(err)

        thread = threading.Thread(target=pump, name="watch", daemon=True)
        thread.start()
        snapshot_seen = [False]

        def until(what: str, condition) -> None:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    hint = f" (last watch error: {last_disconnect[0]})" if last_disconnect[0] else ""
                    raise Failed(f"did not see {what} within {DEADLINE_S:g} s{hint}")
                try:
                    item = inbox.get(timeout=left)
                except queue.Empty:
                    continue
                if isinstance(item, grpc.RpcError):
                    raise item
                view.apply(item)
                kind = item.WhichOneof("kind")
                if kind == "snapshot":
                    snapshot_seen[0] = True
                    print(f"watch: snapshot (cursor {item.cursor}, version {view.version})", flush=True)
                elif kind == "change":
                    changes.append(item.change)
                    print(f"watch: change v{item.change.version} {item.change.event_type} (cursor {item.cursor})", flush=True)

        def timeout() -> float:
            return max(0.001, deadline - time.monotonic())

        try:
            print(f"member {USER_ID} at {TARGET}", flush=True)
            until("the initial snapshot", lambda: snapshot_seen[0])

            # 2. 購入 Purchase (すぐ払い).
            purchase = atone.command.Purchase(
                command_pb2.PurchaseRequest(
                    user_id=USER_ID,
                    product_id="sku-mug-01",
                    product_name="マグカップ (Mug)",
                    amount=1650,
                    payment_mode=types_pb2.PAYMENT_MODE_IMMEDIATE,
                    idempotency_key=new_idempotency_key(),
                ),
                timeout=timeout(),
            )
            print(f"purchase: order {purchase.order_id}, promise {purchase.promise_id}, due {purchase.due_date}, v{purchase.version}", flush=True)
            until(
                "the purchase's PaymentPromiseCreated change",
                lambda: any(
                    c.event_type == "PaymentPromiseCreated" and any(p.promise_id == purchase.promise_id for p in c.promises)
                    for c in changes
                ),
            )

            # 3. 会員請求 Immediate bill for that promise (amount 0 = the promise's amount).
            bill = atone.command.IssueImmediateBill(
                command_pb2.IssueImmediateBillRequest(
                    user_id=USER_ID, promise_id=purchase.promise_id, amount=0, idempotency_key=new_idempotency_key()
                ),
                timeout=timeout(),
            )
            print(f"bill: {bill.bill_id}, due {bill.due_date}, v{bill.version}", flush=True)
            until(
                "the MemberBillIssued change",
                lambda: any(
                    c.event_type == "MemberBillIssued" and any(b.bill_id == bill.bill_id for b in c.bills) for c in changes
                ),
            )

            # 4. 支払い完了 Payment of the bill's amount.
            amount = view.bills[bill.bill_id].amount
            payment = atone.command.CompletePayment(
                command_pb2.CompletePaymentRequest(
                    user_id=USER_ID, bill_id=bill.bill_id, amount=amount, idempotency_key=new_idempotency_key()
                ),
                timeout=timeout(),
            )
            print(f"payment: v{payment.version}", flush=True)
            until(
                "the PaymentCompleted change with the bill paid",
                lambda: any(
                    c.event_type == "PaymentCompleted"
                    and any(b.bill_id == bill.bill_id and b.status == types_pb2.BILL_STATUS_PAID for b in c.bills)
                    for c in changes
                ),
            )
            s = view.summary
            print(
                f"OK: saw all three changes (purchase, bill, payment); member v{view.version}, "
                f"limit {s.credit_limit} / outstanding {s.outstanding_amount} / available {s.available_credit} yen",
                flush=True,
            )
        finally:
            watch.cancel()
            thread.join(timeout=5)


if __name__ == "__main__":
    try:
        main()
    except Failed as err:
        print(f"example FAILED: {err}", file=sys.stderr)
        sys.exit(1)
    except grpc.RpcError as err:
        print(f"example FAILED: gRPC {err.code().name}: {err.details()} ({TARGET})", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
