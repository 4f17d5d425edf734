// eventlog.ts: the 履歴 log read in pages, up to a version, one read at a time.
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const { eventlog, sdk, create } = await load();

const event = (version) => create(sdk.StoredEventSchema, { version, eventType: "PurchaseCompleted" });

/** A ListMemberEvents over events 1..last, `pageSize` at most per page (the log asks 200). */
function source(last, { fail = () => false } = {}) {
  const calls = [];
  return {
    calls,
    async listMemberEvents({ userId, afterVersion, pageSize }) {
      calls.push({ userId, afterVersion, pageSize });
      if (fail(calls.length)) throw new Error("Unavailable: down");
      const events = [];
      for (let v = afterVersion + 1n; v <= last && events.length < pageSize; v++) events.push(event(v));
      const end = events.at(-1)?.version ?? afterVersion;
      return create(sdk.ListMemberEventsResponseSchema, { events, nextAfterVersion: end < last ? end : 0n });
    },
  };
}

test("reads page after page to the end, then only what is new", async () => {
  const src = source(450n);
  const log = new eventlog.EventLog(src, "u1");
  await log.readUpTo(450n);
  assert.deepEqual(src.calls.map((c) => c.afterVersion), [0n, 200n, 400n]);
  assert.ok(src.calls.every((c) => c.userId === "u1" && c.pageSize === 200));
  assert.equal(log.events.length, 450);
  assert.equal(log.last, 450n);
  assert.deepEqual(log.newestFirst().slice(0, 2).map((e) => e.version), [450n, 449n]);

  await log.readUpTo(450n);
  assert.equal(src.calls.length, 3, "read already: no call");
  await log.readUpTo(451n);
  assert.deepEqual(src.calls.at(-1).afterVersion, 450n);
});

test("reads at once; a read asked for meanwhile waits for it", async () => {
  const src = source(3n);
  const log = new eventlog.EventLog(src, "u1");
  await Promise.all([log.readUpTo(3n), log.readUpTo(3n), log.readUpTo(2n)]);
  assert.equal(src.calls.length, 1);
  assert.deepEqual(log.events.map((e) => e.version), [1n, 2n, 3n], "no event twice");
});

test("an empty log is read again at each ask (it may have grown)", async () => {
  const src = source(0n);
  const log = new eventlog.EventLog(src, "u1");
  await log.readUpTo(0n);
  await log.readUpTo(0n);
  assert.equal(src.calls.length, 2);
  assert.equal(log.last, 0n);
});

test("a failed read keeps its error until a read succeeds", async () => {
  const src = source(3n, { fail: (n) => n === 1 });
  const log = new eventlog.EventLog(src, "u1");
  await log.readUpTo(3n);
  assert.equal(log.error, "Unavailable: down");
  assert.equal(log.events.length, 0);
  await log.readUpTo(3n);
  assert.equal(log.error, "");
  assert.equal(log.events.length, 3);
});
