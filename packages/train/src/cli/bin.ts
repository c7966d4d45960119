#!/usr/bin/env node
import { main } from "./main.js";

// A reader that stops early (`mlops-train … | head`) closes the pipe: that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

// No top-level await: the same entry is also bundled as CommonJS. Setting exitCode (instead of
// calling process.exit) lets stdout drain before the process ends.
main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
}).then((code) => {
  process.exitCode = code;
});
