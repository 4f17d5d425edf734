/**
 * atone SDK example: purchase → immediate bill → payment, while watching the member.
 *
 *   npm run build && node dist/examples/flow.js http://127.0.0.1:50051
 *
 * Opens WatchMember first, then runs the three commands over gRPC (HTTP/2) and waits until
 * the stream has delivered each resulting change. Exits 0 when it has seen all three;
 * exits 1 with a message on an error or when the deadline passes.
 *
 * Environment: ATONE_URL (default http://127.0.0.1:50051; or the first argument),
 * ATONE_USER_ID (default: a fresh member), ATONE_EXAMPLE_DEADLINE_MS (default 20000).
 *
 * (Inside this package the example imports ../src; elsewhere: "@atone/sdk" and
 * "@atone/sdk/node".)
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BillStatus,
  MemberView,
  PaymentMode,
  newIdempotencyKey,
  watchMemberResumable,
  type MemberChange,
} from "../src/index.js";
import { createAtoneNodeClients } from "../src/node.js";

const url = process.argv[2] ?? process.env.ATONE_URL ?? "http://127.0.0.1:50051";
const userId = process.env.ATONE_USER_ID ?? `sdk-ts-${randomUUID().slice(0, 8)}`;
const deadlineMs = Number(process.env.ATONE_EXAMPLE_DEADLINE_MS ?? 20000);

class DeadlineError extends Error {}

async function main(): Promise<void> {
  const atone = createAtoneNodeClients(url);
  const stop = new AbortController();
  const deadline = Date.now() + deadlineMs;
  const view = new MemberView();
  const changes: MemberChange[] = [];
  let snapshotSeen = false;
  let wake: () => void = () => {};
  let watchError: unknown;
  let lastDisconnect = "";

  // 1. Watch the member: a snapshot first, then one change per read-model change.
  const watching = (async () => {
    try {
      for await (const message of watchMemberResumable(atone.query, userId, {
        signal: stop.signal,
        onDisconnect: (err, retryIn) => {
          lastDisconnect = err.message;
          console.log(`watch: disconnected (${err.message}); retrying in ${retryIn} ms`);
        },
      })) {
        view.apply(message);
        if (message.kind.case === "snapshot") {
          snapshotSeen = true;
          console.log(`watch: snapshot (cursor ${message.cursor}, version ${view.version})`);
        } else if (message.kind.case === "change") {
          changes.push(message.kind.value);
          console.log(`watch: change v${message.kind.value.version} ${message.kind.value.eventType} (cursor ${message.cursor})`);
        }
        wake();
      }
    } catch (err) {
      watchError = err;
      wake();
    }
  })();

  async function until(what: string, condition: () => boolean): Promise<void> {
    while (!condition()) {
      if (watchError) throw watchError;
      const left = deadline - Date.now();
      if (left <= 0) {
        const hint = lastDisconnect ? ` (last watch error: ${lastDisconnect})` : "";
        throw new DeadlineError(`did not see ${what} within ${deadlineMs} ms${hint}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  const callOptions = () => ({ timeoutMs: Math.max(1, deadline - Date.now()) });

  try {
    console.log(`member ${userId} at ${url}`);
    await until("the initial snapshot", () => snapshotSeen);

    // 2. 購入 Purchase (すぐ払い).
    const purchase = await atone.command.purchase(
      {
        userId,
        productId: "sku-tshirt-01",
        productName: "Tシャツ (T-shirt)",
        amount: 3980n,
        paymentMode: PaymentMode.IMMEDIATE,
        idempotencyKey: newIdempotencyKey(),
      },
      callOptions(),
    );
    console.log(`purchase: order ${purchase.orderId}, promise ${purchase.promiseId}, due ${purchase.dueDate}, v${purchase.version}`);
    await until("the purchase's PaymentPromiseCreated change", () =>
      changes.some((c) => c.eventType === "PaymentPromiseCreated" && c.promises.some((p) => p.promiseId === purchase.promiseId)),
    );

    // 3. 会員請求 Immediate bill for that promise (amount 0 = the promise's amount).
    const bill = await atone.command.issueImmediateBill(
      { userId, promiseId: purchase.promiseId, amount: 0n, idempotencyKey: newIdempotencyKey() },
      callOptions(),
    );
    console.log(`bill: ${bill.billId}, due ${bill.dueDate}, v${bill.version}`);
    await until("the MemberBillIssued change", () =>
      changes.some((c) => c.eventType === "MemberBillIssued" && c.bills.some((b) => b.billId === bill.billId)),
    );

    // 4. 支払い完了 Payment of the bill's amount.
    const billAmount = view.bills.get(bill.billId)?.amount ?? 3980n;
    const payment = await atone.command.completePayment(
      { userId, billId: bill.billId, amount: billAmount, idempotencyKey: newIdempotencyKey() },
      callOptions(),
    );
    console.log(`payment: v${payment.version}`);
    await until("the PaymentCompleted change with the bill paid", () =>
      changes.some(
        (c) =>
          c.eventType === "PaymentCompleted" &&
          c.bills.some((b) => b.billId === bill.billId && b.status === BillStatus.PAID),
      ),
    );

    const s = view.summary;
    console.log(
      `OK: saw all three changes (purchase, bill, payment); member v${view.version}, ` +
        `limit ${s?.creditLimit} / outstanding ${s?.outstandingAmount} / available ${s?.availableCredit} yen`,
    );
  } finally {
    stop.abort();
    await watching;
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof DeadlineError) console.error(`example FAILED: ${err.message}`);
    else if (err instanceof ConnectError) console.error(`example FAILED: gRPC ${Code[err.code]}: ${err.rawMessage} (${url})`);
    else console.error(`example FAILED: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
