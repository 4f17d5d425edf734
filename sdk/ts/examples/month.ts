/**
 * atone SDK example: a month of 月まとめ払い. Two steps, because a month is billed once it is
 * over (run atone with `--clock-offset 31d` in between, as the README's month walkthrough
 * does):
 *
 *   node dist/examples/month.js buy   http://127.0.0.1:50051    # monthly purchases, a return
 *   node dist/examples/month.js close http://127.0.0.1:50051    # close, the bill, payment
 *
 * `buy` prints `ATONE_USER_ID=… ATONE_PERIOD=…`; give both to `close` (environment).
 * `close` closes the month through BillingService (printing its progress), reads the
 * member's monthly bill, pays it with ReceivePayment (as a payment provider would) and
 * waits until WatchMember shows it paid. Exits 0 on success, 1 with a message otherwise.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BillKind,
  BillStatus,
  PaymentMode,
  newIdempotencyKey,
  watchMemberResumable,
  MemberView,
} from "../src/index.js";
import { createAtoneNodeClients } from "../src/node.js";

const [step, urlArg] = process.argv.slice(2);
const url = urlArg ?? process.env.ATONE_URL ?? "http://127.0.0.1:50051";
const timeoutMs = Number(process.env.ATONE_EXAMPLE_DEADLINE_MS ?? 20000);
const atone = createAtoneNodeClients(url);

/** The month of `at` in Japan time, YYYY-MM. */
function periodOf(at: Date): string {
  const japan = new Date(at.getTime() + 9 * 3600 * 1000);
  return japan.toISOString().slice(0, 7);
}

async function buy(): Promise<void> {
  const userId = process.env.ATONE_USER_ID ?? `sdk-ts-month-${randomUUID().slice(0, 8)}`;
  const period = periodOf(new Date());
  const first = await atone.command.purchase({
    userId,
    productId: "sku-coffee-01",
    productName: "コーヒー豆 (coffee beans)",
    amount: 1800n,
    paymentMode: PaymentMode.MONTHLY,
    idempotencyKey: newIdempotencyKey(),
  });
  const second = await atone.command.purchase({
    userId,
    productId: "sku-mug-01",
    productName: "マグカップ (mug)",
    amount: 1200n,
    paymentMode: PaymentMode.MONTHLY,
    idempotencyKey: newIdempotencyKey(),
  });
  console.log(`purchases: ${first.orderId} (1800 yen), ${second.orderId} (1200 yen), due ${second.dueDate}`);
  const returned = await atone.command.cancelPurchase({
    userId,
    orderId: second.orderId,
    amount: 200n,
    idempotencyKey: newIdempotencyKey(),
  });
  console.log(`return of 200 yen: ${returned.remainingAmount} yen left of the mug`);
  console.log(`ATONE_USER_ID=${userId} ATONE_PERIOD=${period}`);
}

async function close(): Promise<void> {
  const userId = process.env.ATONE_USER_ID;
  const period = process.env.ATONE_PERIOD;
  if (!userId || !period) throw new Error("close needs ATONE_USER_ID and ATONE_PERIOD (printed by buy)");
  for await (const progress of atone.billing.closeBillingPeriod({ period })) {
    console.log(`close ${progress.period}: ${progress.membersDone}/${progress.membersTotal} members, ${progress.billsIssued} bills${progress.done ? " (done)" : ""}`);
  }
  const stop = new AbortController();
  const view = new MemberView();
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  try {
    let paid = false;
    for await (const message of watchMemberResumable(atone.query, userId, { signal: stop.signal })) {
      view.apply(message);
      const bill = [...view.bills.values()].find((b) => b.kind === BillKind.MONTHLY && b.period === period);
      if (!bill) continue;
      if (bill.status === BillStatus.PAID) {
        console.log(`OK: bill ${bill.billId} of ${period} paid: items ${bill.itemsTotal} + fee ${bill.fee} = ${bill.amount} yen`);
        return;
      }
      if (!paid) {
        console.log(`bill ${bill.billId}: ${bill.itemsTotal} yen of items + ${bill.fee} yen fee = ${bill.amount} yen, due ${bill.dueDate}`);
        // 消込: money is applied as far as it goes. 1,000 yen first pays the bill in part,
        // then what is left to pay settles it.
        const part = await atone.command.receivePayment({
          userId,
          transactionId: `provider-${randomUUID()}`,
          billId: bill.billId,
          amount: 1000n,
        });
        const left = part.applications.find((a) => a.billId === bill.billId)?.left ?? 0n;
        if (left !== bill.amount - 1000n) throw new Error(`1000 yen paid in part should leave ${bill.amount - 1000n} yen, not ${left}`);
        console.log(`payment received: 1000 yen applied, ${left} yen left to pay`);
        const rest = await atone.command.receivePayment({
          userId,
          transactionId: `provider-${randomUUID()}`,
          billId: bill.billId,
          amount: left,
        });
        console.log(`payment received: ${left} yen applied, bill paid: ${rest.applications.some((a) => a.left === 0n)}, kept ${rest.kept} yen`);
        paid = true;
      }
    }
    throw new Error(`the watch did not show the ${period} bill paid within ${timeoutMs} ms`);
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}

const steps: Record<string, () => Promise<void>> = { buy, close };
const run = steps[step ?? ""];
if (!run) {
  console.error("usage: month.js buy|close [URL]");
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof ConnectError) console.error(`example FAILED: gRPC ${Code[err.code]}: ${err.rawMessage} (${url})`);
    else console.error(`example FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
