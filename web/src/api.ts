// The page's only way to talk to atone: the SDK's gRPC-Web transport (binary,
// application/grpc-web+proto, over fetch) to the origin that served the page. No other
// requests are made after load. With authentication on, every call carries
// `authorization: Bearer <credential>` (credential.ts), read at call time.
import { AuthService, BillingService, CommandService, QueryService, bearer } from "@atone/sdk";
import { createWebTransport } from "@atone/sdk/web";
import { createClient } from "@connectrpc/connect";
import { currentCredential } from "./credential.js";

const transport = createWebTransport(location.origin, { interceptors: [bearer(currentCredential)] });

export const command = createClient(CommandService, transport);
export const query = createClient(QueryService, transport);
/** The month's jobs (締め); the page offers the close as an admin demo. */
export const billing = createClient(BillingService, transport);
/** WhoAmI: which forms the credential allows. */
export const auth = createClient(AuthService, transport);
