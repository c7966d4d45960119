// The entry the runner starts (action.yml: `main: dist/index.js`, bundled from this file).
import { run } from "./main.js";

await run();
