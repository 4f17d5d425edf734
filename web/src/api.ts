// The page's only way to talk to atone: gRPC-Web (binary, application/grpc-web+proto) over
// fetch, to the origin that served the page. No other requests are made after load.
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { BillingService } from "./gen/atone/v1/billing_pb.js";
import { CommandService } from "./gen/atone/v1/command_pb.js";
import { QueryService } from "./gen/atone/v1/query_pb.js";

const transport = createGrpcWebTransport({ baseUrl: location.origin, useBinaryFormat: true });

export const command = createClient(CommandService, transport);
export const query = createClient(QueryService, transport);
/** The month's jobs (締め); the page offers the close as an admin demo. */
export const billing = createClient(BillingService, transport);

/** A fresh idempotency key (crypto.randomUUID where the page is a secure context). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
