// Bundles src/ into dist/ with esbuild: main.js (the app) plus a chunk for
// Verovio's WebAssembly toolkit, loaded when the first score is engraved.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";

const here = new URL("..", import.meta.url).pathname;
const dist = `${here}dist`;
await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
const result = await build({
  absWorkingDir: here,
  entryPoints: ["src/main.ts"],
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  metafile: true,
  // Verovio's Emscripten module imports node:module only when it runs in
  // Node; in the browser that branch never runs.
  external: ["node:*"],
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) await copyFile(`${here}src/${file}`, `${dist}/${file}`);
const sizes = Object.entries(result.metafile.outputs)
  .filter(([name]) => name.endsWith(".js"))
  .map(([name, out]) => `${name.replace(/^dist\//, "")} ${(out.bytes / 1024).toFixed(0)} KiB`);
console.log(`web: built dist/ (${sizes.join(", ")})`);
