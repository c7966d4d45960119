#!/usr/bin/env node
import { main } from "./main.js";

// No top-level await: the same entry is also bundled as CommonJS. Setting exitCode (instead of
// calling process.exit at once) lets stdout drain before the process ends.
main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
}).then((code) => {
  process.exitCode = code;
  // Nothing should be left running; if something is, do not hang after a clean shutdown.
  setTimeout(() => process.exit(code), 2000).unref();
});
