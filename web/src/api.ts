// The page's only way to talk to atone: gRPC-Web (binary, application/grpc-web+proto) over
// fetch, to the origin that served the page. No other requests are made after load.
//
// With authentication on, every call carries `authorization: Bearer <credential>`: a member
// token (read-only, one member) or an API key. The credential comes from the URL fragment
// (`#token=…`, removed from the address bar as soon as it is read) or from the page's
// credential field, and is kept in sessionStorage only (this tab, until it is closed or
// signed out), never in localStorage, a cookie or the URL.
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuthService } from "./gen/atone/v1/auth_pb.js";
import { BillingService } from "./gen/atone/v1/billing_pb.js";
import { CommandService } from "./gen/atone/v1/command_pb.js";
import { QueryService } from "./gen/atone/v1/query_pb.js";

const STORAGE_KEY = "atone.credential";

let credential: string | undefined;

/** Adds the credential, when there is one, to every call (read at call time). */
const bearer: Interceptor = (next) => async (req) => {
  if (credential) req.header.set("authorization", `Bearer ${credential}`);
  return await next(req);
};

const transport = createGrpcWebTransport({ baseUrl: location.origin, useBinaryFormat: true, interceptors: [bearer] });

export const command = createClient(CommandService, transport);
export const query = createClient(QueryService, transport);
/** The month's jobs (締め); the page offers the close as an admin demo. */
export const billing = createClient(BillingService, transport);
/** WhoAmI: which forms the credential allows. */
export const auth = createClient(AuthService, transport);

/**
 * Loads the credential: from `#token=<credential>` if the address has one (then it is
 * stored and removed from the address bar, so it stays out of history, bookmarks and
 * screenshots), else the one this tab stored. Returns it.
 */
export function loadCredential(): string | undefined {
  const fromUrl = new URLSearchParams(location.hash.replace(/^#/, "")).get("token")?.trim();
  if (fromUrl !== undefined) {
    history.replaceState(history.state, "", `${location.pathname}${location.search}`);
    if (fromUrl) setCredential(fromUrl);
    else credential = readStored();
  } else {
    credential = readStored();
  }
  return credential;
}

/** Uses `value` from now on (and keeps it for a reload of this tab). */
export function setCredential(value: string): void {
  credential = value.trim() || undefined;
  try {
    if (credential) sessionStorage.setItem(STORAGE_KEY, credential);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* storage unavailable: the credential lives in memory until the tab is reloaded */
  }
}

/** Signs out: forgets the credential. */
export function clearCredential(): void {
  setCredential("");
}

export function hasCredential(): boolean {
  return credential !== undefined;
}

function readStored(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) || undefined;
  } catch {
    return undefined;
  }
}

/** A fresh idempotency key (crypto.randomUUID where the page is a secure context). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
