#!/usr/bin/env node
import { launch } from "@mlops/core/internal";
import { main } from "./main.js";

// Nothing should be left running after a clean shutdown; if something is, do not hang.
launch(main, { forceExitAfterMs: 2000 });
