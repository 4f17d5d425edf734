// Bundles web/src into web/dist (app.js, app.css, index.html), which the atone binary
// embeds (services/atone/src/web.rs). Deterministic: the same source and lockfile give the
// same bytes, so scripts/test-web can rebuild into a temporary directory and compare.
//
//   node build.mjs                 # writes web/dist
//   node build.mjs --outdir DIR    # writes DIR (used by the staleness check)
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf("--outdir");
const outdir = i > 0 ? resolve(process.argv[i + 1]) : join(here, "dist");

await mkdir(outdir, { recursive: true });
await build({
  absWorkingDir: here,
  entryPoints: { app: "src/main.ts" },
  outdir,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  sourcemap: false,
  logLevel: "warning",
});
await copyFile(join(here, "src/index.html"), join(outdir, "index.html"));
console.log(`web: built ${outdir}/{app.js,app.css,index.html}`);
