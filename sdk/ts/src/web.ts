/**
 * Browser transport: gRPC-Web (binary, application/grpc-web+proto) over fetch, which
 * atone serves on its one port (tonic-web). Server streaming (WatchMember) works.
 *
 *   import { createAtoneWebClients } from "@atone/sdk/web";
 *   const atone = createAtoneWebClients(location.origin);
 *   // with authentication on, a member token:
 *   const member = createAtoneWebClients(location.origin, { interceptors: [bearer(token)] });
 */
import type { Transport } from "@connectrpc/connect";
import { createGrpcWebTransport, type GrpcWebTransportOptions } from "@connectrpc/connect-web";
import { createAtoneClients, type AtoneClients } from "./clients.js";

export function createWebTransport(baseUrl: string, options: Partial<GrpcWebTransportOptions> = {}): Transport {
  return createGrpcWebTransport({ useBinaryFormat: true, ...options, baseUrl });
}

export function createAtoneWebClients(baseUrl: string, options: Partial<GrpcWebTransportOptions> = {}): AtoneClients {
  return createAtoneClients(createWebTransport(baseUrl, options));
}
