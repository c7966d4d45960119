import { defineConfig } from "tsup";

// The Action runs `node dist/index.js` straight from the repository, with no `npm install`: the
// bundle holds everything (@mlops/core from source, @actions/core and their dependencies) and is
// committed. It must be reproducible byte for byte (`npm run check-dist` rebuilds and diffs), so:
// no minifying (readable diffs), no source map, no timestamps; esbuild's module comments hold
// paths relative to this folder only.
export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  outDir: "dist",
  // Bundle every import (tsup leaves package dependencies external by default).
  noExternal: [/.*/],
  splitting: false,
  sourcemap: false,
  minify: false,
  dts: false,
  clean: true,
  // Bundled CommonJS dependencies call `require` for Node built-ins; an ES module has none.
  banner: {
    js: [
      'import { createRequire as __mlopsCreateRequire } from "node:module";',
      "const require = __mlopsCreateRequire(import.meta.url);",
    ].join("\n"),
  },
  esbuildOptions(options) {
    // Bundle @mlops/core from its source, so dist/ follows the source and not a stale build.
    options.conditions = ["@mlops/source"];
    options.legalComments = "inline";
  },
});
