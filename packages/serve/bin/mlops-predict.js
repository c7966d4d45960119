#!/usr/bin/env node
// The `mlops-predict` executable. Committed (not built) so npm can link it at install time, before
// the package is built; the command itself lives in dist/predict-cli.js.
import "../dist/predict-cli.js";
