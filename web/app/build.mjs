// Bundles src/main.ts and src/style.css into dist/assets/ under names that
// carry their content hash, and writes dist/index.html pointing at them.
// Prints each file's size and gzip size (docs/web.md, "Size").
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { gzipSync } from "node:zlib";

const out = "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(out + "/assets", { recursive: true });
writeFileSync(out + "/.gitkeep", "");

const result = await build({
  entryPoints: ["src/main.ts", "src/style.css"],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  target: ["es2022"],
  outdir: out + "/assets",
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

let js = "", css = "";
let total = 0, totalGz = 0;
for (const file of Object.keys(result.metafile.outputs)) {
  const bytes = readFileSync(file);
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += bytes.length;
  totalGz += gz;
  console.log(`${file}  ${bytes.length} bytes, ${gz} gzipped`);
  if (file.endsWith(".js")) js = basename(file);
  if (file.endsWith(".css")) css = basename(file);
}
const html = readFileSync("index.html", "utf8").replace("%CSS%", "/assets/" + css).replace("%JS%", "/assets/" + js);
writeFileSync(out + "/index.html", html);
const h = Buffer.byteLength(html);
console.log(`${out}/index.html  ${h} bytes; bundle total ${total + h} bytes, ${totalGz + gzipSync(html, { level: 9 }).length} gzipped`);
