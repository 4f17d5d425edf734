// What the steps of the browser test share: one atone with authentication on, one Chromium
// profile and its page, the member under test, and what was recorded on the way (the
// page's requests, CSP violations, timings). One test process runs one such world.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Atone, CHROMIUM, freePort } from "../harness.mjs";
import { assertSecurityHeaders, observe } from "./checks.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

export const userId = `web-${randomUUID().slice(0, 8)}`;
/** How soon a change must show on the page. */
export const LIVE_MS = 2000;
export const timings = [];
/** Content-Security-Policy violations Chromium reported on any page of the test. */
export const cspViolations = [];
/** Every request the page made: { method, url, path, contentType, authorization }. */
export const requests = [];
/** What the steps made and later steps use (purchases, bills, the month). */
export const made = {};

export let atone;
/** A member token for userId (IssueMemberToken, as the admin key). */
export let memberToken;
export let context;
export let page;
let profileDir;
/** How many requests the first load made, and the page's performance.timeOrigin then. */
export const loaded = { requests: 0, timeOrigin: 0 };

/**
 * Starts atone (authentication on), checks it serves this web/dist with the security
 * headers, mints the member token, and opens Chromium.
 */
export async function setUp() {
  atone = new Atone(await freePort());
  await atone.enableAuth();
  await atone.start();
  // The binary embeds web/dist at build time: make sure it is this web/dist.
  for (const name of ["app.js", "app.css"]) {
    const res = await fetch(`${atone.url}/assets/${name}`);
    const served = await res.text();
    const built = readFileSync(resolve(here, `../../dist/${name}`), "utf8");
    assert.ok(served === built, `ATONE_BIN serves another /assets/${name} than web/dist/${name}: rebuild atone (cargo build -p atone)`);
    assertSecurityHeaders(Object.fromEntries(res.headers), `/assets/${name}`);
  }
  const missing = await fetch(`${atone.url}/no/such/page`);
  assert.equal(missing.status, 404);
  assertSecurityHeaders(Object.fromEntries(missing.headers), "the 404");
  // Authentication is on: without a credential atone refuses, with the admin key it answers.
  await assert.rejects(atone.grpc("atone.v1.AuthService/WhoAmI", {}, null), /Unauthenticated/);
  assert.deepEqual(await atone.grpc("atone.v1.AuthService/WhoAmI", {}), { kind: "api-key", id: "web-admin", scopes: ["admin"] });
  memberToken = await atone.memberToken(userId);
  profileDir = mkdtempSync(join(tmpdir(), "atone-chromium-"));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
    deviceScaleFactor: 1,
    locale: "ja-JP",
    timezoneId: "Asia/Tokyo",
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("request", (r) => {
    const u = new URL(r.url());
    const headers = r.headers();
    requests.push({
      method: r.method(),
      url: r.url(),
      path: u.pathname,
      contentType: headers["content-type"] ?? "",
      authorization: headers.authorization ?? "",
    });
  });
  observe(page, cspViolations);
}

/** Stops what setUp started; keeps atone's database and logs when a step failed. */
export async function tearDown(failed) {
  await context?.close().catch(() => {});
  await atone?.stop().catch(() => atone.kill());
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  if (atone && !failed) rmSync(atone.dir, { recursive: true, force: true });
  else if (atone) console.log(`  atone's database and logs kept in ${atone.dir}`);
  if (timings.length) console.log(`timings ${JSON.stringify(timings)}`);
}
