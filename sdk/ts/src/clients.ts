import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { CommandService } from "./gen/atone/v1/command_pb.js";
import { ProjectorService } from "./gen/atone/v1/projector_pb.js";
import { QueryService } from "./gen/atone/v1/query_pb.js";

/** Typed clients for atone's three services, sharing one transport. */
export interface AtoneClients {
  /** Purchase, IssueImmediateBill, CompletePayment. */
  command: Client<typeof CommandService>;
  /** GetMember, ListPaymentPromises, ListMemberBills, WatchMember. */
  query: Client<typeof QueryService>;
  /** GetStatus. */
  projector: Client<typeof ProjectorService>;
}

/** Creates the clients of all three services on one transport. */
export function createAtoneClients(transport: Transport): AtoneClients {
  return {
    command: createClient(CommandService, transport),
    query: createClient(QueryService, transport),
    projector: createClient(ProjectorService, transport),
  };
}

/**
 * A fresh idempotency key for a command. Every command needs one; send the same key again
 * only to retry the same command (the retry gets the first reply and changes nothing).
 */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
