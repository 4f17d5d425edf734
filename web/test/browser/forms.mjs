// The admin key pasted into the credential field brings every form; the page's own forms
// (purchase, immediate bill, payment) work and show atone's refusals.
import assert from "node:assert/strict";
import { assertForms } from "./checks.mjs";
import { assertNotReloaded, rowIs, text, until } from "./helpers.mjs";
import { LIVE_MS, atone, page, timings } from "./world.mjs";

/** The admin key, then the forms. */
export function formSteps(step) {
  step("the admin key pasted into the credential field brings the forms", async () => {
    await page.click('[data-testid="credential-toggle"]');
    await page.locator('[data-testid="credential-input"]').waitFor({ state: "visible", timeout: LIVE_MS });
    await page.fill('[data-testid="credential-input"]', atone.adminKey);
    const t0 = Date.now();
    await page.click('[data-testid="credential-submit"]');
    await until(
      "signed in with the admin key, live",
      () => {
        const who = document.querySelector('[data-testid="whoami"]').dataset;
        return (
          who.state === "known" &&
          who.kind === "api-key" &&
          who.id === "web-admin" &&
          document.querySelector('[data-testid="conn-status"]').dataset.state === "live" &&
          document.querySelectorAll('[data-testid="purchase-row"]').length === 3
        );
      },
      null,
      5000,
      t0,
    );
    assert.match(await text("whoami"), /APIキー API key web-admin \(admin\)/);
    assert.ok(await page.locator('[data-testid="auth-panel"]').isHidden(), "the credential panel closes");
    assert.equal(await page.locator('[data-testid="credential-input"]').inputValue(), "", "the field is cleared");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("atone.credential")), atone.adminKey);
    await assertForms(page, true, "the admin key");
    assert.ok(await page.locator('[data-testid="read-only"]').isHidden());
    await assertNotReloaded();
  });

  step("the page's own forms: purchase, immediate bill, payment", async () => {
    await page.fill('[data-testid="purchase-product-id"]', "sku-form-01");
    await page.fill('[data-testid="purchase-product-name"]', "フォームで購入したノート");
    await page.fill('[data-testid="purchase-amount"]', "2500");
    await page.selectOption('[data-testid="purchase-mode"]', "IMMEDIATE");
    let t0 = Date.now();
    await page.click('[data-testid="purchase-submit"]');
    const ms = await until(
      "the form's purchase",
      () =>
        [...document.querySelectorAll('[data-testid="purchase-row"]')].some((r) => r.textContent.includes("フォームで購入したノート")),
      null,
      LIVE_MS,
      t0,
    );
    timings.push({ change: "F purchase from the page's form", onPageAfterClickMs: ms });
    console.log(`  F (the page's purchase form) on the page ${ms} ms after the click`);
    await page.locator('[data-testid="purchase-result"]').waitFor({ state: "visible", timeout: LIVE_MS });
    assert.match(await text("purchase-result"), /Accepted/);
    assert.ok(await page.locator('[data-testid="purchase-error"]').isHidden());
    const formRow = page.locator('[data-testid="purchase-row"]', { hasText: "フォームで購入したノート" });
    const promiseId = await formRow.getAttribute("data-promise-id");

    // Immediate bill from the page: pick that promise.
    await page.selectOption('[data-testid="bill-promise"]', promiseId);
    t0 = Date.now();
    await page.click('[data-testid="bill-submit"]');
    await rowIs(`[data-testid="purchase-row"][data-promise-id="${promiseId}"]`, { "data-status": "BILLED" })(LIVE_MS, t0);
    await page.locator('[data-testid="bill-result"]').waitFor({ state: "visible", timeout: LIVE_MS });
    const billId = await page.evaluate(
      (pid) => [...document.querySelectorAll('[data-testid="bill-row"]')].find((r) => r.textContent.includes("¥2,500"))?.dataset.billId,
      promiseId,
    );
    assert.ok(billId, "the form's bill is listed");

    // Payment from the page, first with a wrong amount: the gRPC status message is shown.
    await page.selectOption('[data-testid="payment-bill"]', billId);
    assert.equal(await page.locator('[data-testid="payment-amount"]').inputValue(), "2500", "amount prefilled");
    await page.fill('[data-testid="payment-amount"]', "2400");
    await page.click('[data-testid="payment-submit"]');
    await page.locator('[data-testid="payment-error"]').waitFor({ state: "visible", timeout: LIVE_MS });
    const error = await text("payment-error");
    console.log(`  wrong payment amount shows: ${error}`);
    assert.match(error, /エラー Error — (InvalidArgument|FailedPrecondition): .+/);
    await page.fill('[data-testid="payment-amount"]', "2500");
    t0 = Date.now();
    await page.click('[data-testid="payment-submit"]');
    await rowIs(`[data-testid="bill-row"][data-bill-id="${billId}"]`, { "data-status": "PAID" })(LIVE_MS, t0);
    await page.locator('[data-testid="payment-result"]').waitFor({ state: "visible", timeout: LIVE_MS });
    assert.ok(await page.locator('[data-testid="payment-error"]').isHidden());

    // Over the credit limit: refused, with the server's message.
    await page.fill('[data-testid="purchase-product-id"]', "sku-too-much");
    await page.fill('[data-testid="purchase-product-name"]', "高すぎる商品");
    await page.fill('[data-testid="purchase-amount"]', "60000");
    await page.click('[data-testid="purchase-submit"]');
    await page.locator('[data-testid="purchase-error"]').waitFor({ state: "visible", timeout: LIVE_MS });
    const limitError = await text("purchase-error");
    console.log(`  over-limit purchase shows: ${limitError}`);
    assert.match(limitError, /FailedPrecondition: credit limit/);
    assert.equal(await page.locator('[data-testid="purchase-row"]', { hasText: "高すぎる商品" }).count(), 0);

    // Leave the form as it was.
    await page.fill('[data-testid="purchase-product-id"]', "sku-0001");
    await page.fill('[data-testid="purchase-product-name"]', "");
    await page.fill('[data-testid="purchase-amount"]', "3000");
    await page.evaluate(() => {
      document.querySelector('[data-testid="purchase-error"]').hidden = true;
    });
    await assertNotReloaded();
  });
}
