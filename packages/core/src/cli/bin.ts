#!/usr/bin/env node
import { launch } from "../command/launch.js";
import { main } from "./main.js";

launch(main);
