// state.ts: the page's state through its updates, and the parts each update says it changed
// (only those are drawn again).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bill, change, noEvents, promise, snapshot, summary } from "./fixtures.mjs";
import { load } from "./load.mjs";

const { state, eventlog, sdk, Code } = await load();

/** A page with member u1 open, its initial snapshot applied. */
function opened(member = { summary: summary(2n), promises: [promise("p1", 1n)], bills: [bill("b1", 2n, { promiseIds: ["p1"] })] }) {
  const s = state.initialState(true, true);
  state.openMember(s, "u1", noEvents(eventlog));
  state.applyMessage(s, snapshot("c2", member), new Date(0));
  return s;
}

const sorted = (parts) => [...parts].sort();

describe("opening a member", () => {
  test("a member: a fresh view on the member screen", () => {
    const s = state.initialState(true, false);
    s.denied = { userId: "x", error: "e" };
    assert.deepEqual(sorted(state.openMember(s, "u1", noEvents(eventlog))), ["member", "screen"]);
    assert.equal(s.screen, "member");
    assert.equal(s.member.userId, "u1");
    assert.equal(s.member.view.version, 0n);
    assert.equal(s.denied, undefined);
  });

  test("none: the empty screen, not connected", () => {
    const s = opened();
    s.connection = { state: "live" };
    assert.deepEqual(sorted(state.openMember(s, "", undefined)), ["connection", "member", "screen"]);
    assert.equal(s.member, undefined);
    assert.equal(s.screen, "empty");
    assert.equal(s.connection, undefined);
  });
});

describe("a WatchMember message redraws what it touched", () => {
  test("a snapshot: every member view; nothing highlighted", () => {
    const s = state.initialState(true, true);
    state.openMember(s, "u1", noEvents(eventlog));
    const parts = state.applyMessage(s, snapshot("c2", { summary: summary(2n), promises: [promise("p1", 1n)] }), new Date(5));
    assert.deepEqual(sorted(parts), ["activity", "bills", "choices", "events", "purchases", "summary"]);
    assert.equal(s.member.touched.size, 0);
    assert.equal(s.member.updatedAt.getTime(), 5);
    assert.deepEqual(s.member.activity, []);
  });

  test("a new purchase: its rows, the summary, the activity and the forms' lists, not the bills", () => {
    const s = opened();
    const parts = state.applyMessage(
      s,
      change("c3", {
        version: 3n,
        eventType: "PaymentPromiseCreated",
        occurredAt: { seconds: 1767225600n, nanos: 0 },
        summary: summary(3n),
        promises: [promise("p2", 3n)],
      }),
    );
    assert.deepEqual(sorted(parts), ["activity", "choices", "events", "purchases", "summary"]);
    assert.deepEqual([...s.member.touched], ["p2"]);
    assert.deepEqual(s.member.activity, [{ version: 3n, eventType: "PaymentPromiseCreated", at: new Date("2026-01-01T00:00:00Z") }]);
  });

  test("a promise a bill names: the bills too (a bill row shows its items' names)", () => {
    const s = opened();
    const parts = state.applyMessage(s, change("c3", { version: 3n, eventType: "PurchaseCancelled", promises: [promise("p1", 1n, { amount: 0n })] }));
    assert.ok(parts.includes("bills"));
  });

  test("a payment: the bill, not the purchases", () => {
    const s = opened();
    const parts = state.applyMessage(
      s,
      change("c3", { version: 3n, eventType: "PaymentCompleted", summary: summary(3n), bills: [bill("b1", 2n, { status: sdk.BillStatus.PAID })] }),
    );
    assert.deepEqual(sorted(parts), ["activity", "bills", "choices", "events", "summary"]);
    assert.deepEqual([...s.member.touched], ["b1"]);
  });

  test("a change already applied: no new version, so the event log is not read again", () => {
    const s = opened();
    const again = change("c2", { version: 2n, eventType: "MemberBillIssued", bills: [bill("b1", 2n)] });
    assert.ok(!state.applyMessage(s, again).includes("events"));
  });

  test("the live changes keep the latest 30, newest first", () => {
    const s = opened();
    for (let v = 3n; v < 40n; v++) state.applyMessage(s, change(`c${v}`, { version: v, eventType: "PurchaseCompleted", summary: summary(v) }), new Date(Number(v)));
    assert.equal(s.member.activity.length, state.ACTIVITY_MAX);
    assert.equal(s.member.activity[0].version, 39n);
    assert.equal(s.member.activity.at(-1).version, 10n);
    assert.equal(s.member.activity[0].at.getTime(), 39, "no occurredAt: the time it arrived");
  });

  test("a CURSOR_EXPIRED snapshot replaces the state and says so", () => {
    const s = opened();
    state.applyMessage(s, change("c3", { version: 3n, eventType: "PurchaseCompleted", summary: summary(3n), promises: [promise("p2", 3n)] }));
    assert.equal(state.cursorExpired(s.member), false);
    state.applyMessage(s, snapshot("c9", { summary: summary(9n), promises: [promise("p9", 9n)] }, sdk.SnapshotReason.CURSOR_EXPIRED));
    assert.equal(state.cursorExpired(s.member), true);
    assert.deepEqual([...s.member.view.promises.keys()], ["p9"]);
    assert.equal(s.member.view.snapshots, 2);
    assert.equal(s.member.activity.length, 1, "the live changes stay");
  });

  test("no member open: nothing changes", () => {
    const s = state.initialState(true, true);
    assert.deepEqual(state.applyMessage(s, snapshot("c1", {})), []);
  });
});

describe("the watch's state", () => {
  test("live closes a refused credential's prompt, not one opened by hand", () => {
    const s = opened();
    state.showAuthPanel(s, "refused", "Unauthenticated: expired");
    assert.deepEqual(sorted(state.setConnection(s, { state: "live" })), ["auth-panel", "connection"]);
    assert.equal(s.authPanel, undefined);
    state.showAuthPanel(s, "manual");
    state.setConnection(s, { state: "live" });
    assert.equal(s.authPanel.reason, "manual");
  });

  test("UNAUTHENTICATED: nothing of the member; the prompt says none was given, or it was refused", () => {
    const s = opened();
    s.hasCredential = false;
    state.setConnection(s, { state: "failed", error: "Unauthenticated: no credential", code: Code.Unauthenticated });
    assert.equal(s.screen, "signin");
    assert.deepEqual(s.authPanel, { reason: "missing", detail: "" });
    s.hasCredential = true;
    state.setConnection(s, { state: "failed", error: "Unauthenticated: bad token", code: Code.Unauthenticated });
    assert.deepEqual(s.authPanel, { reason: "refused", detail: "Unauthenticated: bad token" });
  });

  test("PERMISSION_DENIED: the permission message, naming the member token's member", () => {
    const s = opened();
    state.setWho(s, "known", { kind: "member", id: "u2", scopes: new Set() });
    assert.deepEqual(sorted(state.setConnection(s, { state: "failed", error: "PermissionDenied: another member", code: Code.PermissionDenied })), [
      "connection",
      "screen",
    ]);
    assert.equal(s.screen, "denied");
    assert.equal(
      state.deniedMessage(s),
      "会員 u2 のトークン · the member token of u2 では会員 u1 を表示できません (cannot view member u1) — PermissionDenied: another member",
    );
    state.setWho(s, "known", { kind: "api-key", id: "k", scopes: new Set(["purchases"]) });
    assert.match(state.deniedMessage(s), /^この認証情報 · this credential では会員 u1/);
  });

  test("a break is only the connection", () => {
    const s = opened();
    assert.deepEqual(state.setConnection(s, { state: "down", error: "Unavailable: x", attempt: 1, retryAt: 0 }), ["connection"]);
    assert.equal(s.screen, "member");
  });
});

describe("the credential panel", () => {
  test("hiding it for a reason leaves one opened for another, but not the sign-in prompt", () => {
    const s = state.initialState(true, false);
    assert.deepEqual(state.hideAuthPanel(s), [], "already hidden");
    state.showAuthPanel(s, "manual");
    assert.deepEqual(state.hideAuthPanel(s, "refused"), []);
    assert.equal(s.authPanel.reason, "manual");
    state.showAuthPanel(s, "missing");
    assert.deepEqual(state.hideAuthPanel(s, "refused"), ["auth-panel"]);
    assert.equal(s.authPanel, undefined);
    state.showAuthPanel(s, "manual");
    state.hideAuthPanel(s);
    assert.equal(s.authPanel, undefined);
  });
});

describe("which forms show", () => {
  const NEEDS = ["purchases", "billing", "payments", "purchases", "billing", "billing"];
  const access = (identity, commandsHere = true) => {
    const s = state.initialState(commandsHere, true);
    if (identity) state.setWho(s, "known", identity);
    return state.formAccess(s, NEEDS);
  };

  test("a member token: none, and the read-only note", () => {
    assert.deepEqual(access({ kind: "member", id: "u1", scopes: new Set() }), { shown: NEEDS.map(() => false), readOnly: true, elsewhere: false });
  });

  test("the admin key (or no authentication): every form", () => {
    assert.deepEqual(access({ kind: "api-key", id: "web-admin", scopes: new Set(["admin"]) }).shown, NEEDS.map(() => true));
    assert.deepEqual(access({ kind: "unrestricted", id: "", scopes: new Set([state.SCOPE_ADMIN]) }).readOnly, false);
  });

  test("a key with some scopes: the forms of those", () => {
    const a = access({ kind: "api-key", id: "shop", scopes: new Set(["purchases", "payments"]) });
    assert.deepEqual(a.shown, [true, false, true, true, false, false]);
    assert.equal(a.readOnly, false);
  });

  test("not known yet: none, no note", () => {
    assert.deepEqual(access(undefined), { shown: NEEDS.map(() => false), readOnly: false, elsewhere: false });
  });

  test("served by atone query: none, and why", () => {
    assert.deepEqual(access({ kind: "api-key", id: "web-admin", scopes: new Set(["admin"]) }, false), {
      shown: NEEDS.map(() => false),
      readOnly: false,
      elsewhere: true,
    });
  });
});

test("the tab and who: each its own part", () => {
  const s = state.initialState(true, false);
  assert.deepEqual(state.setTab(s, "events"), ["tab"]);
  assert.equal(s.tab, "events");
  assert.deepEqual(state.setWho(s, "error", undefined, "Unavailable: down"), ["who"]);
  assert.equal(s.whoDetail, "Unavailable: down");
  assert.deepEqual(state.setCredentialHeld(s, true), ["who"]);
  assert.equal(s.hasCredential, true);
});
