// The browser test's first steps: a member token in the address (the member, read-only,
// live; the token gone from the address), the same token on another member's page (the
// permission message), no and a bad credential (the sign-in prompt), a pasted token (kept
// across a reload, forgotten by sign out).
import assert from "node:assert/strict";
import { assertForms, assertSecurityHeaders, observe } from "./checks.mjs";
import { assertNotReloaded, markLoaded, text, until, untilOn } from "./helpers.mjs";
import { atone, context, loaded, memberToken, page, requests, userId } from "./world.mjs";

/** Steps 1–2: a member token. */
export function memberTokenSteps(step) {
  step("opens /user/<id>#token=<member token>: the member, read-only, live; the token leaves the address", async () => {
    const response = await page.goto(`${atone.url}/user/${encodeURIComponent(userId)}#token=${encodeURIComponent(memberToken)}`, {
      waitUntil: "load",
    });
    loaded.requests = requests.length;
    assert.equal(response.status(), 200);
    assertSecurityHeaders(response.headers(), "the page /user/<id>");
    await until("the token removed from the address", () => location.hash === "", null, 5000);
    assert.equal(new URL(page.url()).pathname, `/user/${userId}`);
    assert.ok(!page.url().includes("token"), `the address still has the token: ${page.url()}`);
    assert.equal(await page.evaluate(() => history.state?.token), undefined);
    // Kept for this tab only.
    assert.equal(await page.evaluate(() => sessionStorage.getItem("atone.credential")), memberToken);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.equal(await page.evaluate(() => document.cookie), "");
    await until("live status", () => document.querySelector('[data-testid="conn-status"]')?.dataset.state === "live", null, 5000);
    await until("signed in as the member", (u) => {
      const el = document.querySelector('[data-testid="whoami"]');
      return el.dataset.state === "known" && el.dataset.kind === "member" && el.dataset.id === u;
    }, userId, 5000);
    assert.match(await text("whoami"), new RegExp(`会員 Member ${userId}`));
    assert.ok(await page.locator('[data-testid="sign-out"]').isVisible(), "sign out offered");
    await assertForms(page, false, "a member token");
    assert.ok(await page.locator('[data-testid="read-only"]').isVisible(), "the read-only note");
    assert.ok(await page.locator('[data-testid="auth-panel"]').isHidden());
    assert.equal(await text("member-id"), userId);
    assert.equal(await page.locator('[data-testid="user-input"]').inputValue(), userId);
    await until("credit limit", () => document.querySelector('[data-testid="credit-limit"]').textContent === "¥50,000", null, 5000);
    assert.equal(await text("available"), "¥50,000");
    assert.equal(await text("outstanding"), "¥0");
    assert.ok(await page.locator('[data-testid="disconnected-banner"]').isHidden());
    await markLoaded();
  });

  step("another member with that token: the permission message; no or a bad credential: the sign-in prompt", async () => {
    const other = `${userId}-not-mine`;
    // atone itself refuses the token for another member.
    await assert.rejects(atone.grpc("atone.v1.QueryService/GetMember", { user_id: other }, memberToken), /PermissionDenied/);
    const p = await context.newPage();
    observe(p);
    try {
      const response = await p.goto(`${atone.url}/user/${other}#token=${encodeURIComponent(memberToken)}`, { waitUntil: "load" });
      assertSecurityHeaders(response.headers(), "another member's page");
      await untilOn(
        p,
        "the permission message",
        () =>
          !document.querySelector('[data-testid="denied"]').hidden &&
          document.querySelector('[data-testid="member"]').hidden &&
          document.querySelector('[data-testid="conn-status"]').dataset.state === "failed",
        null,
        5000,
      );
      const denied = await p.locator('[data-testid="denied"]').innerText();
      console.log(`  another member's page with the member token shows: ${denied.replace(/\s+/g, " ")}`);
      assert.match(denied, /この会員は表示できません/);
      assert.match(denied, new RegExp(`cannot view member ${other}`));
      assert.match(denied, /PermissionDenied: this member token is for another member/);
      assert.equal(new URL(p.url()).hash, "", "the token is gone from the address");
      assert.ok(await p.locator('[data-testid="disconnected-banner"]').isHidden(), "no reconnecting banner");
      await assertForms(p, false, "a member token on another member's page");

      // No credential: the sign-in prompt, nothing of the member.
      await p.evaluate(() => sessionStorage.clear());
      await p.goto(`${atone.url}/user/${userId}`, { waitUntil: "load" });
      await untilOn(
        p,
        "the sign-in prompt",
        () =>
          document.querySelector('[data-testid="auth-panel"]').dataset.reason === "missing" &&
          !document.querySelector('[data-testid="auth-panel"]').hidden &&
          document.querySelector('[data-testid="whoami"]').dataset.state === "unauthenticated" &&
          document.querySelector('[data-testid="member"]').hidden &&
          document.querySelector('[data-testid="conn-status"]').dataset.state === "failed",
        null,
        5000,
      );
      assert.match(await p.locator('[data-testid="auth-panel"]').innerText(), /認証が必要です Sign-in needed/);
      assert.equal(await p.locator('[data-testid="credential-input"]').getAttribute("type"), "password");
      assert.ok(await p.locator('[data-testid="sign-out"]').isHidden(), "nothing to sign out of");
      await assertForms(p, false, "no credential");

      // A bad credential: refused, with atone's reason.
      await p.goto("about:blank");
      await p.goto(`${atone.url}/user/${userId}#token=not-a-valid-token`, { waitUntil: "load" });
      await untilOn(
        p,
        "the credential refused",
        () =>
          document.querySelector('[data-testid="auth-panel"]').dataset.reason === "refused" &&
          document.querySelector('[data-testid="whoami"]').dataset.state === "unauthenticated" &&
          location.hash === "",
        null,
        5000,
      );
      assert.match(await p.locator('[data-testid="auth-panel"]').innerText(), /Credential refused[\s\S]*Unauthenticated/);

      // The member token pasted into the credential field: the member, live.
      await p.fill('[data-testid="credential-input"]', memberToken);
      await p.click('[data-testid="credential-submit"]');
      const signedIn = (u) =>
        document.querySelector('[data-testid="whoami"]').dataset.kind === "member" &&
        document.querySelector('[data-testid="whoami"]').dataset.id === u &&
        document.querySelector('[data-testid="conn-status"]').dataset.state === "live" &&
        !document.querySelector('[data-testid="member"]').hidden &&
        document.querySelector('[data-testid="auth-panel"]').hidden &&
        document.querySelector('[data-testid="credit-limit"]').textContent === "¥50,000";
      await untilOn(p, "signed in with the pasted member token", signedIn, userId, 5000);
      assert.equal(await p.locator('[data-testid="credential-input"]').inputValue(), "", "the field is cleared");
      assert.equal(await p.evaluate(() => sessionStorage.getItem("atone.credential")), memberToken);
      // A reload keeps it (sessionStorage).
      await p.reload({ waitUntil: "load" });
      await untilOn(p, "still signed in after a reload", signedIn, userId, 5000);
      // Sign out forgets it.
      await p.click('[data-testid="sign-out"]');
      await untilOn(
        p,
        "signed out",
        () =>
          document.querySelector('[data-testid="whoami"]').dataset.state === "unauthenticated" &&
          document.querySelector('[data-testid="auth-panel"]').dataset.reason === "missing" &&
          document.querySelector('[data-testid="member"]').hidden,
        null,
        5000,
      );
      assert.equal(await p.evaluate(() => sessionStorage.getItem("atone.credential")), null);
    } finally {
      await p.close();
    }
    await assertNotReloaded();
  });
}
