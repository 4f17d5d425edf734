// Bundles web/src into web/dist (app.js, app.css, index.html), which the atone binary
// embeds (services/atone/src/web.rs). Deterministic: the same source and lockfile give the
// same bytes, so scripts/test-web can rebuild into a temporary directory and compare.
//
//   node build.mjs                 # writes web/dist
//   node build.mjs --outdir DIR    # writes DIR (used by the staleness check)
//
// The page is built from the TypeScript SDK's source (sdk/ts/src, its browser-safe entries
// `@atone/sdk` and `@atone/sdk/web`): tsconfig.json maps those, and the packages every file
// imports (the SDK's too) to web/node_modules, so the bundle has one copy of each whether
// or not sdk/ts has its own node_modules.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** What the page's bundle and the unit tests' bundle share. */
export const bundleOptions = {
  absWorkingDir: here,
  // One tsconfig for every file, the SDK's included: its `paths` resolve the SDK and the packages.
  tsconfig: join(here, "tsconfig.json"),
  bundle: true,
  format: "esm",
  charset: "utf8",
  logLevel: "warning",
  metafile: true,
};

/** Files the page must not bundle: the SDK's Node-only code, and packages from elsewhere. */
export function foreignInputs(metafile) {
  return Object.keys(metafile.inputs).filter(
    (path) =>
      /(^|\/)sdk\/ts\/src\/(node|webhook)\.ts$/.test(path) ||
      (path.includes("node_modules/") && !path.startsWith("node_modules/")),
  );
}

async function main() {
  const i = process.argv.indexOf("--outdir");
  const outdir = i > 0 ? resolve(process.argv[i + 1]) : join(here, "dist");
  await mkdir(outdir, { recursive: true });
  const result = await build({
    ...bundleOptions,
    entryPoints: { app: "src/main.ts" },
    outdir,
    platform: "browser",
    target: ["es2022", "chrome110", "firefox110", "safari16"],
    minify: true,
    legalComments: "eof",
    sourcemap: false,
  });
  const foreign = foreignInputs(result.metafile);
  if (foreign.length > 0) throw new Error(`the bundle must not include: ${foreign.join(", ")}`);
  await copyFile(join(here, "src/index.html"), join(outdir, "index.html"));
  console.log(`web: built ${outdir}/{app.js,app.css,index.html}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
