/** Progress of the trials on stderr, for `mlops-train`. */
import { type CommandIo, formatDuration } from "@mlops/core/internal";

/**
 * Progress of the trials: a bar redrawn in place on a terminal, else (pipes, CI logs) one plain
 * line per tenth of the work.
 */
export class Progress {
  readonly #stream: CommandIo["stderr"];
  readonly #live: boolean;
  #lastTenth = 0;
  #drawn = false;

  constructor(stream: CommandIo["stderr"], env: Record<string, string | undefined>) {
    this.#stream = stream;
    const ci = env.CI !== undefined && env.CI !== "" && env.CI !== "false" && env.CI !== "0";
    this.#live = stream.isTTY === true && !ci;
  }

  update(done: number, total: number, best: string, elapsedMs: number): void {
    if (this.#live) {
      const width = 24;
      const filled = Math.round((done / Math.max(total, 1)) * width);
      const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
      this.#stream.write(
        `\r\u001b[2K  trials ${bar} ${done}/${total}  ${best}  ${formatDuration(elapsedMs)}`,
      );
      this.#drawn = true;
      return;
    }
    const tenth = Math.floor((10 * done) / Math.max(total, 1));
    if (tenth > this.#lastTenth) {
      this.#lastTenth = tenth;
      this.#stream.write(`  trials ${done}/${total}  ${best}  ${formatDuration(elapsedMs)}\n`);
    }
  }

  /** Ends a live bar's line. */
  finish(): void {
    if (this.#live && this.#drawn) this.#stream.write("\n");
    this.#drawn = false;
  }
}
