// The page's state, one object, and the updates it goes through. Each update returns the
// parts it changed (store.ts draws only their views). No DOM here: the unit tests run it.
import { MemberView, SnapshotReason, type MemberChange, type WatchMemberResponse } from "@atone/sdk";
import { Code } from "@connectrpc/connect";
import type { EventLog } from "./eventlog.js";
import { timestampDate } from "./format.js";

/** What the page draws, each by its own view. */
export type Part =
  | "member" // another member (or none) was opened: every member view
  | "summary" // the member's version, credit and account
  | "purchases"
  | "bills"
  | "activity" // the live changes list
  | "choices" // the forms' lists of promises, bills and orders
  | "events" // the member's version grew: the 履歴 log reads on
  | "connection"
  | "who" // who the credential is, and so which forms show
  | "auth-panel"
  | "screen"
  | "tab";

export type ConnStatus =
  | { state: "connecting"; attempt: number }
  | { state: "live" }
  | { state: "down"; error: string; attempt: number; retryAt: number }
  | { state: "failed"; error: string; code: Code };

export interface Activity {
  version: bigint;
  eventType: string;
  at: Date;
}

/** The member shown, as its WatchMember stream and event log describe it. */
export interface MemberPage {
  userId: string;
  view: MemberView;
  /** Promise and bill ids the last message changed (their rows are highlighted). */
  touched: Set<string>;
  /** The latest changes, newest first (at most ACTIVITY_MAX). */
  activity: Activity[];
  updatedAt: Date | undefined;
  events: EventLog;
}

/** Who the credential is (AuthService/WhoAmI). */
export interface Identity {
  kind: string;
  id: string;
  scopes: Set<string>;
}

export type WhoState = "checking" | "known" | "unauthenticated" | "error";
export type AuthReason = "missing" | "refused" | "manual";
/** The main area: no member chosen, the member, the permission message, or nothing (sign in first). */
export type Screen = "empty" | "member" | "denied" | "signin";
export type Tab = "overview" | "events";

export interface PageState {
  member: MemberPage | undefined;
  screen: Screen;
  /** Why the member cannot be shown (screen "denied"). */
  denied: { userId: string; error: string } | undefined;
  connection: ConnStatus | undefined;
  tab: Tab;
  who: WhoState;
  /** Known once WhoAmI answered; undefined while checking or when no credential works. */
  identity: Identity | undefined;
  /** WhoAmI's error, when it failed. */
  whoDetail: string;
  /** Whether the tab holds a credential (sign out is offered). */
  hasCredential: boolean;
  authPanel: { reason: AuthReason; detail: string } | undefined;
  /** Whether CommandService answers where the page came from (not under `atone query`). */
  commandsHere: boolean;
}

export const ACTIVITY_MAX = 30;
export const SCOPE_ADMIN = "admin";

export function initialState(commandsHere: boolean, hasCredential: boolean): PageState {
  return {
    member: undefined,
    screen: "empty",
    denied: undefined,
    connection: undefined,
    tab: "overview",
    who: "checking",
    identity: undefined,
    whoDetail: "",
    hasCredential,
    authPanel: undefined,
    commandsHere,
  };
}

/** Opens `userId` (with its event log), or none for "". */
export function openMember(s: PageState, userId: string, events: EventLog | undefined): Part[] {
  s.denied = undefined;
  if (!userId || !events) {
    s.member = undefined;
    s.screen = "empty";
    s.connection = undefined;
    return ["member", "screen", "connection"];
  }
  s.member = { userId, view: new MemberView(), touched: new Set(), activity: [], updatedAt: undefined, events };
  s.screen = "member";
  return ["member", "screen"];
}

/** Folds one WatchMember message into the member; the parts are those it touched. */
export function applyMessage(s: PageState, message: WatchMemberResponse, now = new Date()): Part[] {
  const m = s.member;
  if (!m) return [];
  const before = m.view.version;
  const update = m.view.apply(message);
  m.updatedAt = now;
  m.touched = new Set(update.kind === "change" ? [...update.promiseIds, ...update.billIds] : []);
  const parts = new Set<Part>(["summary"]);
  if (update.kind === "snapshot") {
    for (const p of ["purchases", "bills", "choices", "activity"] as const) parts.add(p);
  }
  if (update.change) {
    m.activity.unshift(activityOf(update.change, now));
    m.activity.length = Math.min(m.activity.length, ACTIVITY_MAX);
    parts.add("activity");
  }
  if (update.promiseIds.length > 0) {
    parts.add("purchases").add("choices");
    // A bill row names its promises.
    const ids = new Set(update.promiseIds);
    if ([...m.view.bills.values()].some((b) => b.promiseIds.some((id) => ids.has(id)))) parts.add("bills");
  }
  if (update.billIds.length > 0) parts.add("bills").add("choices");
  if (m.view.version > before) parts.add("events");
  return [...parts];
}

function activityOf(change: MemberChange, now: Date): Activity {
  return { version: change.version, eventType: change.eventType, at: change.occurredAt ? timestampDate(change.occurredAt) : now };
}

/** Whether the member's state came from a CURSOR_EXPIRED snapshot (the changes were gone). */
export function cursorExpired(m: MemberPage): boolean {
  return m.view.snapshotReason === SnapshotReason.CURSOR_EXPIRED;
}

/**
 * The watch's state. Live: a refused credential's prompt closes. Refused for good: no
 * credential that works asks for one; another member's credential shows the permission
 * message.
 */
export function setConnection(s: PageState, status: ConnStatus | undefined): Part[] {
  s.connection = status;
  const parts: Part[] = ["connection"];
  if (status?.state === "live") parts.push(...hideAuthPanel(s, "refused"));
  if (status?.state === "failed" && status.code === Code.Unauthenticated) {
    s.screen = "signin";
    parts.push("screen", ...askForCredential(s, status.error));
  }
  if (status?.state === "failed" && status.code === Code.PermissionDenied && s.member) {
    s.screen = "denied";
    s.denied = { userId: s.member.userId, error: status.error };
    parts.push("screen");
  }
  return parts;
}

/** What WhoAmI said (or that it is being asked, or failed). */
export function setWho(s: PageState, who: WhoState, identity?: Identity, detail = ""): Part[] {
  s.who = who;
  s.identity = identity;
  s.whoDetail = detail;
  return ["who"];
}

export function setCredentialHeld(s: PageState, held: boolean): Part[] {
  s.hasCredential = held;
  return ["who"];
}

export function showAuthPanel(s: PageState, reason: AuthReason, detail = ""): Part[] {
  s.authPanel = { reason, detail };
  return ["auth-panel"];
}

/** A call was refused as UNAUTHENTICATED: no credential was given, or the one given was refused. */
export function askForCredential(s: PageState, detail: string): Part[] {
  return s.hasCredential ? showAuthPanel(s, "refused", detail) : showAuthPanel(s, "missing");
}

/** Closes the credential panel; with `onlyIf`, only when it was opened for that reason (or none was given). */
export function hideAuthPanel(s: PageState, onlyIf?: AuthReason): Part[] {
  const reason = s.authPanel?.reason;
  if (!reason) return [];
  if (onlyIf && reason !== onlyIf && reason !== "missing") return [];
  s.authPanel = undefined;
  return ["auth-panel"];
}

export function setTab(s: PageState, tab: Tab): Part[] {
  s.tab = tab;
  return ["tab"];
}

/** May the credential make calls that need `scope` (admin has every scope)? */
export function allowed(identity: Identity | undefined, scope: string): boolean {
  return !!identity && (identity.scopes.has(scope) || identity.scopes.has(SCOPE_ADMIN));
}

/**
 * Which forms show, for forms needing `needs` (a scope each): those the credential allows,
 * none where commands are served elsewhere; the read-only note when a known credential
 * allows none of them.
 */
export function formAccess(s: PageState, needs: readonly string[]): { shown: boolean[]; readOnly: boolean; elsewhere: boolean } {
  const shown = needs.map((scope) => s.commandsHere && allowed(s.identity, scope));
  return { shown, readOnly: s.commandsHere && !!s.identity && !shown.some(Boolean), elsewhere: !s.commandsHere };
}

/** The permission message: whose credential cannot view which member, and atone's reason. */
export function deniedMessage(s: PageState): string {
  if (!s.denied) return "";
  const { userId, error } = s.denied;
  const who =
    s.identity?.kind === "member" ? `会員 ${s.identity.id} のトークン · the member token of ${s.identity.id}` : "この認証情報 · this credential";
  return `${who} では会員 ${userId} を表示できません (cannot view member ${userId}) — ${error}`;
}
