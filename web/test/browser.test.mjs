// The browser test of atone's page: real atone (ATONE_BIN) with authentication on (an admin
// API key from `atone api-key`, member tokens), real Chromium (Debian's, via playwright-core),
// changes driven from outside the page with grpcurl and the admin key. Whole flows, one
// after the other on one page; what the page computes (amounts, labels, the fold, which
// forms a credential gets, what each update redraws) is unit-tested in test/unit/.
//
//   ATONE_BIN=... GRPCURL=... node --test test/browser.test.mjs
//
// First the credential (browser/credential.mjs): the page opened at /user/<id>#token=<member
// token> (minted with IssueMemberToken) shows that member read-only (no write forms),
// removes the token from the address, and its responses carry the security headers (CSP,
// nosniff, no-referrer, DENY); the same token on another member's page shows the permission
// message, no or a bad credential the sign-in prompt; a pasted token works, survives a
// reload, sign out forgets it. Then the page live (browser/live.mjs): every change made
// outside appears within 2 s with no reload; the 履歴 Events tab lists the member's event
// log as stored, newest first, and follows new events while it is open; a server restart
// shows as a disconnection and the watch resumes from its cursor (missing nothing). The
// admin key pasted into the credential field brings the forms, which work and show atone's
// refusals (browser/forms.mjs); a CURSOR_EXPIRED snapshot replaces the state; the member
// field switches members and Back returns. Then the month (H–K, browser/month.mjs): monthly
// purchases, a cancellation and the payment method from the page's forms; atone restarted
// 32 days ahead (--clock-offset) so their month has ended; the page's close form bills it
// (the monthly bill appears live, with its items and the 209 yen fee) and its payment form
// pays it; restarted 70 days ahead with the daily billing, an unpaid bill becomes overdue:
// the page turns red (延滞) and its purchase form shows the refusal. Last
// (browser/audit.mjs): after the initial load the page talked to atone only through
// gRPC-Web POSTs carrying its credential; no step caused a CSP violation, and an injected
// inline script is refused; it saves docs/screenshot.png (SCREENSHOT).
import { after, before, describe, it } from "node:test";
import { auditSteps } from "./browser/audit.mjs";
import { memberTokenSteps } from "./browser/credential.mjs";
import { formSteps } from "./browser/forms.mjs";
import { liveSteps, recoverySteps } from "./browser/live.mjs";
import { monthSteps } from "./browser/month.mjs";
import { setUp, tearDown } from "./browser/world.mjs";

describe("atone page over gRPC-Web", { concurrency: false }, () => {
  let failed = false;
  before(setUp);
  after(() => tearDown(failed));

  /** A step of the flow: skipped once one has failed (each builds on the ones before). */
  const step = (name, fn) =>
    it(name, async (t) => {
      if (failed) return t.skip("an earlier step failed");
      try {
        await fn(t);
      } catch (err) {
        failed = true;
        throw err;
      }
    });

  memberTokenSteps(step);
  liveSteps(step);
  formSteps(step);
  recoverySteps(step);
  monthSteps(step);
  auditSteps(step);
});
