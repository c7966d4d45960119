import { MlopsError } from "../errors/error.js";
import { loadUi } from "../ui/load.js";
import { defineMlopsCommand } from "./context.js";
import { parsePositiveInteger } from "./shared.js";

// ------------------------------------------------------------------ ui

/** `--port`: 0 (a free port) to 65535; 5000 when not given, as `mlflow ui`. */
function parsePort(text: string | undefined): number {
  if (text === undefined) return 5000;
  if (text === "0") return 0;
  const port = parsePositiveInteger("--port", text);
  if (port > 65535) {
    throw new MlopsError(
      "argument_invalid",
      `--port ${port} is invalid: expected 0 (a free port) to 65535`,
    );
  }
  return port;
}

/**
 * `mlops ui`: the local web app over the registry (read-only, on 127.0.0.1), served by the
 * optional `@mlops/ui` package until Ctrl-C (SIGINT) or SIGTERM.
 */
export const uiCommand = defineMlopsCommand({
  name: "ui",
  summary: "Browse the registry in a local web app: experiments, runs, models, versions.",
  description:
    "Serves a read-only web app over the registry on 127.0.0.1 (needs the @mlops/ui package) " +
    "and prints its URL; stops on Ctrl-C. Every script and style is served by the app itself.",
  args: [],
  options: {
    port: {
      type: "string",
      value: "N",
      description: "the port to listen on (default 5000, as mlflow ui; 0 picks a free one)",
    },
  },
  examples: ["mlops ui", "mlops ui --registry ./.mlops --port 8080"],
  async run({ options, openRegistry, registry: location, io }) {
    const port = parsePort(options.port);
    // Before the registry is opened: a missing @mlops/ui fails at once with what to install.
    const ui = await loadUi("startUi");
    const registry = await openRegistry();
    const running = await ui.startUi({ store: registry.store, port, location });
    io.stdout.write(`mlops ui: ${running.url} (read-only; Ctrl-C stops it)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await running.close();
    return {};
  },
});
