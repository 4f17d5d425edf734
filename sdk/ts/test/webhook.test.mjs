// The webhook signature helpers of the TypeScript SDK (compiled to dist/ by tsc first):
// the same vector atone's own test and the Python SDK's check, round trips, and every
// refusal.
import assert from "node:assert/strict";
import { test } from "node:test";

import { signWebhook, verifyWebhook, WebhookSignatureError } from "../dist/src/node.js";

const BODY = '{"event_id":"evt-1","amount":4709}';
const T = 1767225600;
const VECTOR = "7583ef64fc4e88865888ff6f180ccf620914ae12bb391a3b05e061124cf30c25";

test("the shared vector: atone, Python and TypeScript sign alike", () => {
  assert.equal(signWebhook(BODY, "whsec-test", T), `t=${T},v1=${VECTOR}`);
  assert.equal(verifyWebhook(BODY, `t=${T},v1=${VECTOR}`, "whsec-test", { now: T + 10 }), T);
  assert.equal(verifyWebhook(Buffer.from(BODY), `t=${T}, v1=${VECTOR}`, ["old", "whsec-test"], { now: T }), T);
});

test("a rotated secret: either of two v1 entries, either of two secrets", () => {
  const both = `${signWebhook(BODY, "new", T)},v1=${signWebhook(BODY, "old", T).split("v1=")[1]}`;
  assert.equal(verifyWebhook(BODY, both, "old", { now: T }), T);
  assert.equal(verifyWebhook(BODY, both, ["new"], { now: T }), T);
});

test("what is refused, and why", () => {
  const good = signWebhook(BODY, "whsec-test", T);
  const refused = (body, header, secrets, now, why) =>
    assert.throws(() => verifyWebhook(body, header, secrets, { now }), (e) => e instanceof WebhookSignatureError && why.test(e.message));
  refused(BODY.replace("4709", "9999"), good, "whsec-test", T, /does not match/);
  refused(BODY, good, "another", T, /does not match/);
  refused(BODY, good, "whsec-test", T + 301, /more than 300 s/);
  refused(BODY, good, "whsec-test", T - 301, /more than 300 s/);
  refused(BODY, undefined, "whsec-test", T, /no Atone-Signature/);
  refused(BODY, `v1=${VECTOR}`, "whsec-test", T, /no t=/);
  refused(BODY, `t=${T}`, "whsec-test", T, /no v1/);
  refused(BODY, `t=${T},v1=zz`, "whsec-test", T, /not a hex/);
  refused(BODY, `t=${T},${Array(9).fill(`v1=${VECTOR}`).join(",")}`, "whsec-test", T, /more than 8/);
  assert.equal(verifyWebhook(BODY, good, "whsec-test", { now: T + 3000, toleranceSeconds: 3600 }), T);
});
