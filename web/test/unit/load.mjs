// Loads the page's DOM-free modules (subjects.ts) for the unit tests: bundled by esbuild as
// the page is (build.mjs), for Node, in memory.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleOptions } from "../../build.mjs";

const here = dirname(fileURLToPath(import.meta.url));
let loaded;

/** The modules of subjects.ts: { choices, credential, eventlog, format, idempotency, state, store, sdk, create, Code, ConnectError }. */
export function load() {
  loaded ??= build({
    ...bundleOptions,
    entryPoints: [join(here, "subjects.ts")],
    platform: "node",
    target: "node20",
    write: false,
    sourcemap: "inline",
  }).then((result) => import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString("base64")}`));
  return loaded;
}
