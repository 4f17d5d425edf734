// bearer() and newIdempotencyKey() (compiled to dist/ by tsc first).
import assert from "node:assert/strict";
import { test } from "node:test";

import { bearer, newIdempotencyKey } from "../dist/src/index.js";

/** Runs the interceptor on a request and returns its authorization header (or null). */
async function authorizationOf(interceptor) {
  const req = { header: new Headers() };
  await interceptor(async (r) => r)(req);
  return req.header.get("authorization");
}

test("bearer presents a fixed credential", async () => {
  assert.equal(await authorizationOf(bearer("web-admin.secret")), "Bearer web-admin.secret");
});

test("bearer reads a function's credential at each call; none, none sent", async () => {
  let credential;
  const interceptor = bearer(() => credential);
  assert.equal(await authorizationOf(interceptor), null);
  credential = "member-token";
  assert.equal(await authorizationOf(interceptor), "Bearer member-token");
  credential = "";
  assert.equal(await authorizationOf(interceptor), null);
});

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("newIdempotencyKey: a fresh UUID v4, also without crypto.randomUUID", () => {
  const a = newIdempotencyKey();
  assert.match(a, UUID_V4);
  assert.notEqual(newIdempotencyKey(), a);
  // A browser page that is not a secure context has getRandomValues but no randomUUID.
  Object.defineProperty(globalThis.crypto, "randomUUID", { value: undefined, configurable: true });
  try {
    const keys = new Set(Array.from({ length: 50 }, () => newIdempotencyKey()));
    assert.equal(keys.size, 50);
    for (const k of keys) assert.match(k, UUID_V4);
  } finally {
    delete globalThis.crypto.randomUUID;
  }
  assert.equal(typeof globalThis.crypto.randomUUID, "function");
});
