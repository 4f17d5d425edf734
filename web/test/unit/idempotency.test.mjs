// idempotency.ts: a form's keys: new per command, kept for a retry after a transport error.
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const { idempotency, Code } = await load();

function keys() {
  let n = 0;
  return new idempotency.CommandKeys(() => `k${++n}`);
}

test("the same request keeps its key until it is done; the next gets a new one", () => {
  const k = keys();
  assert.equal(k.keyFor("buy 3000"), "k1");
  assert.equal(k.keyFor("buy 3000"), "k1");
  k.succeeded();
  assert.equal(k.keyFor("buy 3000"), "k2", "the same fields again are a new purchase");
});

test("another request gets another key", () => {
  const k = keys();
  assert.equal(k.keyFor("buy 3000"), "k1");
  assert.equal(k.keyFor("buy 2500"), "k2");
});

test("after a transport error the retry keeps the key; after a refusal it does not", () => {
  for (const code of [Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Canceled, Code.Aborted]) {
    const k = keys();
    k.keyFor("pay");
    k.failed(code);
    assert.equal(k.keyFor("pay"), "k1", `${Code[code]}: a retry must not pay twice`);
  }
  for (const code of [Code.FailedPrecondition, Code.InvalidArgument, Code.Unauthenticated]) {
    const k = keys();
    k.keyFor("pay");
    k.failed(code);
    assert.equal(k.keyFor("pay"), "k2", `${Code[code]}: the refused command was not done`);
  }
});

test("the default keys are fresh UUIDs", () => {
  const k = new idempotency.CommandKeys();
  const a = k.keyFor("x");
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  k.succeeded();
  assert.notEqual(k.keyFor("x"), a);
});
