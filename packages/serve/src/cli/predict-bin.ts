#!/usr/bin/env node
import { launch } from "@mlops/core/internal";
import { predictMain } from "./predict.js";

launch(predictMain);
