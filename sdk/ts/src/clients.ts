import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { AuthService } from "./gen/atone/v1/auth_pb.js";
import { BillingService } from "./gen/atone/v1/billing_pb.js";
import { CommandService } from "./gen/atone/v1/command_pb.js";
import { ProjectorService } from "./gen/atone/v1/projector_pb.js";
import { QueryService } from "./gen/atone/v1/query_pb.js";
import { WebhookService } from "./gen/atone/v1/webhooks_pb.js";

/** Typed clients for atone's services, sharing one transport. */
export interface AtoneClients {
  /**
   * Purchase, IssueImmediateBill, CompletePayment, SetPaymentMethod, CancelPurchase,
   * ReceivePayment, IssueRefund, ChangeCreditLimit.
   */
  command: Client<typeof CommandService>;
  /** CloseBillingPeriod, MarkOverdueBills (each streams its progress). */
  billing: Client<typeof BillingService>;
  /**
   * GetMember, ListPaymentPromises, ListMemberBills, WatchMember, ListMemberEvents,
   * SubscribeEvents (every event of every member, in commit order).
   */
  query: Client<typeof QueryService>;
  /** GetStatus. */
  projector: Client<typeof ProjectorService>;
  /** IssueMemberToken, WhoAmI. */
  auth: Client<typeof AuthService>;
  /** Outgoing webhook endpoints: add, list, disable, replay, and their delivery log. */
  webhooks: Client<typeof WebhookService>;
}

/** Creates the clients of all of atone's services on one transport. */
export function createAtoneClients(transport: Transport): AtoneClients {
  return {
    command: createClient(CommandService, transport),
    billing: createClient(BillingService, transport),
    query: createClient(QueryService, transport),
    projector: createClient(ProjectorService, transport),
    auth: createClient(AuthService, transport),
    webhooks: createClient(WebhookService, transport),
  };
}

/**
 * An interceptor that presents `credential` (an API key `<id>.<secret>` or a member token)
 * as `authorization: Bearer …` on every call: pass it in the transport options'
 * `interceptors` when atone runs with authentication on. Give a function to read the
 * credential at each call (one that can change, e.g. after a sign-in); a call made while
 * it returns nothing or "" carries no authorization.
 */
export function bearer(credential: string | (() => string | undefined)): Interceptor {
  return (next) => async (req) => {
    const value = typeof credential === "function" ? credential() : credential;
    if (value) req.header.set("authorization", `Bearer ${value}`);
    return next(req);
  };
}

/**
 * A fresh idempotency key for a command. Every command needs one; send the same key again
 * only to retry the same command (the retry gets the first reply and changes nothing).
 * A random (version 4) UUID, also in a browser page that is not a secure context (where
 * `crypto.randomUUID` is missing).
 */
export function newIdempotencyKey(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
