// Builds the console into ../../internal/console/dist, which the Go binary
// embeds: index.html and hashed assets/app-*.js and app-*.css.
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "../../internal/console/dist");
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
const result = await build({
  entryPoints: [join(here, "src/main.tsx")],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: join(out, "assets"),
  entryNames: "app-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
let js = "", css = "";
for (const f of Object.keys(result.metafile.outputs)) {
  if (f.endsWith(".js")) js = basename(f);
  if (f.endsWith(".css")) css = basename(f);
}
writeFileSync(join(out, "index.html"), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pgmotion console</title>
<link rel="stylesheet" href="/ui/assets/${css}">
</head>
<body>
<div id="app"></div>
<script type="module" src="/ui/assets/${js}"></script>
</body>
</html>
`);
console.log(`console built: ${out} (${js}, ${css})`);
