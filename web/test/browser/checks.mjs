// Checks of any page of the browser tests: the security headers, CSP violations, which
// forms show.
import assert from "node:assert/strict";

/** The page's write forms: none for a member token, all for the admin key. */
export const FORMS = ["purchase", "bill", "payment", "cancel", "method", "close"];

/** Records the CSP violations of page p in `violations` (and logs its errors). */
export function observe(p, violations) {
  p.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(`${m.type()}: ${m.text()}`);
  });
  p.on("pageerror", (e) => console.log(`  page error: ${e.message}`));
}

/** The security headers every page response carries (services/atone/src/web.rs). */
export function assertSecurityHeaders(headers, what) {
  const csp = headers["content-security-policy"] ?? "";
  const directives = csp.split(";").map((d) => d.trim());
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"])
    assert.ok(directives.includes(d), `${what}: Content-Security-Policy ${JSON.stringify(csp)} lacks ${d}`);
  assert.doesNotMatch(csp, /unsafe-/, `${what}: the CSP allows unsafe code`);
  assert.equal(headers["x-content-type-options"], "nosniff", `${what}: X-Content-Type-Options`);
  assert.equal(headers["referrer-policy"], "no-referrer", `${what}: Referrer-Policy`);
  assert.equal(headers["x-frame-options"], "DENY", `${what}: X-Frame-Options`);
}

/** Asserts which of the write forms page p shows. */
export async function assertForms(p, visible, what) {
  for (const f of FORMS)
    assert.equal(await p.locator(`[data-testid="${f}-form"]`).isVisible(), visible, `${what}: the ${f} form is ${visible ? "missing" : "shown"}`);
}

