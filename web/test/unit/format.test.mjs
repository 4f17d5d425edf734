// format.ts: amounts, dates and times in Japan, labels, errors and the 延滞 notice.
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const { format, sdk, Code, ConnectError } = await load();

test("yen: grouped by thousands, signed, a dash for none", () => {
  assert.equal(format.yen(0n), "¥0");
  assert.equal(format.yen(999n), "¥999");
  assert.equal(format.yen(1000n), "¥1,000");
  assert.equal(format.yen(1234567n), "¥1,234,567");
  assert.equal(format.yen(-4200n), "-¥4,200");
  assert.equal(format.yen(undefined), "—");
});

test("dates and ids: a dash for none; long ids shortened to their end", () => {
  assert.equal(format.date("2025-03-10"), "2025-03-10");
  assert.equal(format.date(""), "—");
  assert.equal(format.shortId("b-123"), "b-123");
  assert.equal(format.shortId("0123456789abcdef"), "…89abcdef");
});

test("timestamps are shown in Japan time, to the minute; clock to the second", () => {
  const ts = { seconds: 1767225600n, nanos: 999_000_000 }; // 2026-01-01T00:00:00.999Z
  assert.equal(format.timestampDate(ts).toISOString(), "2026-01-01T00:00:00.999Z");
  assert.equal(format.timestamp(ts), "2026/01/01 09:00");
  assert.equal(format.timestamp(undefined), "—");
  assert.equal(format.clock(new Date("2026-01-01T14:59:58Z")), "23:59:58");
});

test("previousMonthInJapan: the month before, in Japan's calendar", () => {
  assert.equal(format.previousMonthInJapan(new Date("2025-06-15T00:00:00Z")), "2025-05");
  // 1 March 00:30 in Japan is still February in UTC.
  assert.equal(format.previousMonthInJapan(new Date("2025-02-28T15:30:00Z")), "2025-02");
  assert.equal(format.previousMonthInJapan(new Date("2026-01-05T00:00:00Z")), "2025-12");
});

test("every enum value has a label", () => {
  const cases = [
    [format.MODE, sdk.PaymentMode],
    [format.METHOD, sdk.PaymentMethod],
    [format.BILL_KIND, sdk.BillKind],
    [format.PROMISE_STATUS, sdk.PromiseStatus],
    [format.BILL_STATUS, sdk.BillStatus],
  ];
  for (const [labels, values] of cases) {
    for (const v of Object.values(values).filter((v) => typeof v === "number")) {
      assert.ok(labels[v]?.ja && labels[v]?.en && labels[v]?.cls, `${values[v]} has no label`);
    }
  }
  assert.equal(format.METHOD[sdk.PaymentMethod.UNSPECIFIED].ja, "コンビニ払い", "a member who never chose pays at a store");
  assert.deepEqual([...format.PAYABLE].sort(), [sdk.BillStatus.UNPAID, sdk.BillStatus.OVERDUE, sdk.BillStatus.ADJUSTED].sort());
});

test("describeError: the gRPC code and atone's message", () => {
  assert.equal(format.describeError(new ConnectError("credit limit exceeded", Code.FailedPrecondition)), "FailedPrecondition: credit limit exceeded");
  assert.equal(format.describeError(new Error("boom")), "Unknown: boom");
});

test("amountOf: whole yen, else an InvalidArgument", () => {
  assert.equal(format.amountOf("3000"), 3000n);
  for (const bad of ["", "-1", "1.5", "1e3", "abc"]) {
    assert.throws(() => format.amountOf(bad), (e) => e instanceof ConnectError && e.code === Code.InvalidArgument, bad);
  }
});

test("usedPercent: to one decimal; 0 without a limit", () => {
  assert.equal(format.usedPercent(4200n, 50000n), 8.4);
  assert.equal(format.usedPercent(1n, 3n), 33.3);
  assert.equal(format.usedPercent(100n, 0n), 0);
});

test("overdueNotice: how many bills, singular or plural, and which", () => {
  const bill = { billId: "bill-0123456789", amount: 2800n, dueDate: "2025-05-10" };
  assert.equal(
    format.overdueNotice(1n, [bill]),
    "1 件の請求が支払期限を過ぎています。お支払いまで新しいご購入はできません · 1 bill past due: purchases are refused until paid — …23456789 ¥2,800 (期限 due 2025-05-10)",
  );
  assert.match(format.overdueNotice(2n, []), /2 bills past due: purchases are refused until paid$/);
});
