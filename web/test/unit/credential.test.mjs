// credential.ts: the token a URL fragment carries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./load.mjs";

const { credential } = await load();

test("tokenInHash: the token parameter of the fragment, trimmed", () => {
  assert.equal(credential.tokenInHash("#token=abc.def"), "abc.def");
  assert.equal(credential.tokenInHash("#x=1&token=%20abc%20"), "abc");
  assert.equal(credential.tokenInHash("token=abc"), "abc");
  assert.equal(credential.tokenInHash("#token="), "", "an empty token");
  assert.equal(credential.tokenInHash("#other=1"), undefined);
  assert.equal(credential.tokenInHash(""), undefined);
});
