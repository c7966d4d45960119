#!/usr/bin/env node
import { predictMain } from "./predict.js";

// No top-level await: the same entry is also bundled as CommonJS. Setting exitCode (instead of
// calling process.exit at once) lets stdout drain before the process ends.
predictMain(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mlops-predict: unexpected error: ${(error as Error)?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
