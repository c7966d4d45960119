#!/usr/bin/env node
import { launch } from "@mlops/core/internal";
import { main } from "./main.js";

launch(main);
