/**
 * Node transport: gRPC over HTTP/2 (cleartext for http:// base URLs).
 *
 *   import { createAtoneNodeClients } from "@atone/sdk/node";
 *   const atone = createAtoneNodeClients("http://127.0.0.1:50051");
 *   // with authentication on:
 *   const shop = createAtoneNodeClients(url, { interceptors: [bearer(process.env.ATONE_API_KEY!)] });
 */
import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport, type GrpcTransportOptions } from "@connectrpc/connect-node";
import { createAtoneClients, type AtoneClients } from "./clients.js";

export function createNodeTransport(baseUrl: string, options: Partial<GrpcTransportOptions> = {}): Transport {
  return createGrpcTransport({ ...options, baseUrl });
}

export function createAtoneNodeClients(baseUrl: string, options: Partial<GrpcTransportOptions> = {}): AtoneClients {
  return createAtoneClients(createNodeTransport(baseUrl, options));
}

export {
  DEFAULT_TOLERANCE_SECONDS,
  MAX_SIGNATURES,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhook,
  WebhookSignatureError,
  type VerifyOptions,
} from "./webhook.js";
