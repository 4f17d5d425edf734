// The page in the split deployment: served by `atone query` alone, where no CommandService
// answers. The page says so and shows no form (a form would only get UNIMPLEMENTED), yet it
// follows the member live: a purchase made at `atone command`'s address (here an `atone
// serve` on the same database) appears on it.
//
//   ATONE_BIN=... GRPCURL=... node --test test/split.test.mjs
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { Atone, CHROMIUM, freePort } from "./harness.mjs";

const LIVE_MS = 2000;
const FORMS = ["purchase", "bill", "payment", "cancel", "method", "close"];
const userId = `split-${randomUUID().slice(0, 8)}`;

describe("the page served by atone query (split deployment)", { concurrency: false }, () => {
  /** CommandService (with the projector) on one port, QueryService alone on another. */
  let commands;
  let queries;
  let browser;
  let page;

  before(async () => {
    commands = new Atone(await freePort());
    await commands.start();
    queries = new Atone(await freePort(), commands.dir);
    queries.role = "query";
    await queries.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    for (const a of [queries, commands]) await a?.stop().catch(() => a.kill());
    rmSync(commands.dir, { recursive: true, force: true });
  });

  it("shows why there are no forms, and follows the member live", async () => {
    // The same page from atone serve has its forms: the mark differs, nothing else.
    const full = await (await fetch(`${commands.url}/user/${userId}`)).text();
    const split = await (await fetch(`${queries.url}/user/${userId}`)).text();
    assert.match(full, /<meta name="atone-commands" content="here">/);
    assert.match(split, /<meta name="atone-commands" content="elsewhere">/);

    await page.goto(`${queries.url}/user/${encodeURIComponent(userId)}`, { waitUntil: "load" });
    await page.waitForFunction(() => document.querySelector('[data-testid="conn-status"]')?.dataset.state === "live", null, { timeout: 10000 });
    const reason = page.locator('[data-testid="commands-elsewhere"]');
    await reason.waitFor({ state: "visible", timeout: LIVE_MS });
    assert.match(await reason.innerText(), /atone command/);
    for (const f of FORMS) assert.equal(await page.locator(`[data-testid="${f}-form"]`).isVisible(), false, `the ${f} form is shown`);

    // A purchase at the command address reaches the page served by atone query.
    const reply = await commands.grpc("atone.v1.CommandService/Purchase", {
      user_id: userId,
      product_id: "sku-split",
      product_name: "分割デプロイ",
      amount: 1200,
      payment_mode: "PAYMENT_MODE_IMMEDIATE",
      idempotency_key: randomUUID(),
    });
    await page.waitForFunction(
      (id) => document.querySelector(`[data-testid="purchase-row"][data-promise-id="${id}"]`)?.textContent.includes("分割デプロイ"),
      reply.promiseId,
      { timeout: LIVE_MS * 5, polling: 10 },
    );
    // The same page served with CommandService shows the forms and no such notice.
    await page.goto(`${commands.url}/user/${encodeURIComponent(userId)}`, { waitUntil: "load" });
    await page.locator('[data-testid="purchase-form"]').waitFor({ state: "visible", timeout: 10000 });
    assert.equal(await page.locator('[data-testid="commands-elsewhere"]').isVisible(), false);
  });
});
