#!/usr/bin/env python3
"""atone SDK example: a month of 月まとめ払い, in two steps (a month is billed once it is
over: run atone with ``--clock-offset 31d`` in between, as the README's month walkthrough
does).

    python examples/month.py buy   127.0.0.1:50051    # monthly purchases, a return
    python examples/month.py close 127.0.0.1:50051    # close, the bill, payment

``buy`` prints ``ATONE_USER_ID=... ATONE_PERIOD=...``; give both to ``close`` (environment).
``close`` closes the month through BillingService (printing its progress), finds the
member's monthly bill, pays it with ReceivePayment (as a payment provider would) and checks
it is paid. Exits 0 on success, 1 with a message otherwise.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
import uuid

import grpc

from atone import AtoneClient, new_idempotency_key
from atone.v1 import billing_pb2, command_pb2, query_pb2, types_pb2

JST = datetime.timezone(datetime.timedelta(hours=9))
DEADLINE_S = float(os.environ.get("ATONE_EXAMPLE_DEADLINE_S", "20"))


def buy(atone: AtoneClient) -> None:
    user_id = os.environ.get("ATONE_USER_ID") or f"sdk-py-month-{uuid.uuid4().hex[:8]}"
    period = datetime.datetime.now(JST).strftime("%Y-%m")
    orders = []
    for product, name, amount in [("sku-tea-01", "緑茶 (green tea)", 900), ("sku-pot-01", "急須 (teapot)", 2100)]:
        reply = atone.command.Purchase(
            command_pb2.PurchaseRequest(
                user_id=user_id,
                product_id=product,
                product_name=name,
                amount=amount,
                payment_mode=types_pb2.PAYMENT_MODE_MONTHLY,
                idempotency_key=new_idempotency_key(),
            )
        )
        orders.append(reply.order_id)
        print(f"purchase: {reply.order_id} ({amount} yen), due {reply.due_date}", flush=True)
    returned = atone.command.CancelPurchase(
        command_pb2.CancelPurchaseRequest(
            user_id=user_id, order_id=orders[1], amount=100, idempotency_key=new_idempotency_key()
        )
    )
    print(f"return of 100 yen: {returned.remaining_amount} yen left of the teapot", flush=True)
    print(f"ATONE_USER_ID={user_id} ATONE_PERIOD={period}", flush=True)


def monthly_bill(atone: AtoneClient, user_id: str, period: str) -> types_pb2.MemberBill | None:
    bills = atone.query.ListMemberBills(query_pb2.ListMemberBillsRequest(user_id=user_id)).bills
    return next((b for b in bills if b.kind == types_pb2.BILL_KIND_MONTHLY and b.period == period), None)


def wait_for_bill(atone, user_id, period, status=None) -> types_pb2.MemberBill:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        bill = monthly_bill(atone, user_id, period)
        if bill is not None and (status is None or bill.status == status):
            return bill
        time.sleep(0.05)
    raise RuntimeError(f"no {period} bill{' paid' if status else ''} within {DEADLINE_S} s")


def close(atone: AtoneClient) -> None:
    user_id = os.environ.get("ATONE_USER_ID")
    period = os.environ.get("ATONE_PERIOD")
    if not user_id or not period:
        raise RuntimeError("close needs ATONE_USER_ID and ATONE_PERIOD (printed by buy)")
    for progress in atone.billing.CloseBillingPeriod(billing_pb2.CloseBillingPeriodRequest(period=period)):
        done = " (done)" if progress.done else ""
        print(f"close {progress.period}: {progress.members_done}/{progress.members_total} members, "
              f"{progress.bills_issued} bills{done}", flush=True)
    bill = wait_for_bill(atone, user_id, period)
    print(f"bill {bill.bill_id}: {bill.items_total} yen of items + {bill.fee} yen fee = {bill.amount} yen, "
          f"due {bill.due_date}", flush=True)
    # 消込: money is applied as far as it goes. 1,000 yen first pays the bill in part, then
    # what is left to pay settles it.
    part = atone.command.ReceivePayment(
        command_pb2.ReceivePaymentRequest(
            user_id=user_id, transaction_id=f"provider-{uuid.uuid4()}", bill_id=bill.bill_id, amount=1000
        )
    )
    left = next(a.left for a in part.applications if a.bill_id == bill.bill_id)
    if left != bill.amount - 1000:
        raise RuntimeError(f"1000 yen paid in part should leave {bill.amount - 1000} yen, not {left}")
    print(f"payment received: 1000 yen applied, {left} yen left to pay", flush=True)
    rest = atone.command.ReceivePayment(
        command_pb2.ReceivePaymentRequest(
            user_id=user_id, transaction_id=f"provider-{uuid.uuid4()}", bill_id=bill.bill_id, amount=left
        )
    )
    settled = any(a.left == 0 for a in rest.applications)
    print(f"payment received: {left} yen applied, bill paid: {settled}, kept {rest.kept} yen", flush=True)
    paid = wait_for_bill(atone, user_id, period, types_pb2.BILL_STATUS_PAID)
    print(f"OK: bill {paid.bill_id} of {period} paid", flush=True)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("buy", "close"):
        print("usage: month.py buy|close [TARGET]", file=sys.stderr)
        return 2
    target = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("ATONE_TARGET", "127.0.0.1:50051")
    try:
        with AtoneClient(target) as atone:
            (buy if sys.argv[1] == "buy" else close)(atone)
    except grpc.RpcError as err:
        print(f"example FAILED: gRPC {err.code().name}: {err.details()} ({target})", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - an example reports whatever went wrong
        print(f"example FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
