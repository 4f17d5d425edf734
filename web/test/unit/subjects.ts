// What the unit tests exercise: the page's modules that need no DOM, bundled as one module
// (load.mjs) so that they share one copy of the SDK.
export * as choices from "../../src/choices.js";
export * as credential from "../../src/credential.js";
export * as eventlog from "../../src/eventlog.js";
export * as format from "../../src/format.js";
export * as idempotency from "../../src/idempotency.js";
export * as state from "../../src/state.js";
export * as store from "../../src/store.js";
export * as sdk from "@atone/sdk";
export { create } from "@bufbuild/protobuf";
export { Code, ConnectError } from "@connectrpc/connect";
