#!/usr/bin/env node
// The `mlops-train` executable. Committed (not built) so npm can link it at install time, before the
// package is built; the command itself lives in dist/cli.js.
import "../dist/cli.js";
