import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRegistry } from "../registry/registry.js";

/** What `describeStudyWorkers` needs: the built `mlops-train`, data, and a registry per test. */
export interface StudyWorkersSetup {
  /** The built `mlops-train` entry (`packages/train/dist/cli.js`). */
  mlopsTrain: string;
  /** A CSV with a numeric `quality` target (the wine data; a few hundred rows are enough). */
  data: () => string;
  /** A folder to run in. */
  cwd: () => string;
  /** A new, empty registry location (a folder path or a URL) for one test. */
  registry: () => string;
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Distributed search with real `mlops-train` processes on one registry backend: a grid run by
 * three workers, one of which stops holding a trial (as a frozen machine would) and is killed
 * with SIGKILL, gives exactly the results of one process running the whole grid; the stopped
 * worker's trial is taken over after the grace period, every trial is a tracked run, and the
 * best model is registered once.
 *
 * @example
 * describeStudyWorkers("folder", { mlopsTrain, data: () => csv, cwd: () => root, registry });
 */
export function describeStudyWorkers(name: string, setup: StudyWorkersSetup): void {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  });

  function start(
    args: string[],
    env: Record<string, string> = {},
  ): {
    child: ChildProcess;
    done: Promise<Finished>;
    stderrText: () => string;
  } {
    const child = spawn(process.execPath, [setup.mlopsTrain, ...args], {
      cwd: setup.cwd(),
      env: { PATH: process.env.PATH ?? "", CI: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
    });
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    const done = once(child, "close").then(([code]) => ({
      code: code as number | null,
      stdout,
      stderr,
    }));
    return { child, done, stderrText: () => stderr };
  }

  const search = () => [
    "--data",
    setup.data(),
    "--target",
    "quality",
    "--model",
    "ridge",
    "--search",
    "grid",
    "--cv",
    "3",
    "--jobs",
    "1",
    "--json",
  ];

  describe(`distributed search with mlops-train workers: ${name}`, () => {
    let reference: Record<string, unknown>;

    beforeAll(async () => {
      // One process runs the whole grid: what the workers together must give.
      const single = await start([
        ...search(),
        "--registry",
        setup.registry(),
        "--register",
        "wine",
      ]).done;
      expect(single.code, single.stderr).toBe(0);
      reference = JSON.parse(single.stdout);
    }, 180_000);

    it("three workers, one killed holding a trial, give the one-process results", async () => {
      const registry = setup.registry();
      const args = [
        ...search(),
        "--registry",
        registry,
        "--register",
        "wine",
        "--alias",
        "candidate",
        "--study",
        "wine-grid",
        "--study-grace",
        "3",
      ];
      // The first worker completes one trial, claims a second and stops there.
      const frozen = start(args, { MLOPS_TEST_STUDY_STOP_AFTER_CLAIMS: "2" });
      const held = await new Promise<number>((resolve, reject) => {
        const look = () => {
          const match = /stopped holding trial (\d+)/.exec(frozen.stderrText());
          if (match) resolve(Number(match[1]));
        };
        frozen.child.stderr!.on("data", look);
        frozen.done.then((result) =>
          reject(new Error(`the first worker exited (${result.code}): ${result.stderr}`)),
        );
        look();
      });
      const others = [start(args), start(args)];
      frozen.child.kill("SIGKILL");
      expect((await frozen.done).code).toBeNull();
      const reports = [];
      for (const worker of others) {
        const result = await worker.done;
        expect(result.code, result.stderr).toBe(0);
        reports.push(JSON.parse(result.stdout));
      }

      const strip = (report: Record<string, unknown>) => ({
        best: report.best,
        holdout: report.holdout,
        leaderboard: (report.leaderboard as Record<string, unknown>[]).map(
          ({ fitTime: _, ...row }) => row,
        ),
      });
      const total = (reference.search as { candidates: number }).candidates;
      for (const report of reports) {
        expect(strip(report)).toStrictEqual(strip(reference));
        expect(report.registered).toStrictEqual(reports[0].registered);
      }
      expect(reports[0].registered).toMatchObject({ name: "wine", version: 1 });
      const studies = reports.map((report) => report.study);
      expect(studies.filter((study) => study.finished)).toHaveLength(1);
      expect(studies.reduce((sum, study) => sum + study.takenOver, 0)).toBe(1);
      // The stopped worker completed its first trial; the other two ran the rest.
      expect(studies.reduce((sum, study) => sum + study.trialsRun, 0)).toBe(total - 1);

      const store = await openRegistry(registry);
      try {
        expect((await store.store.listModelVersions("wine")).map((v) => v.version)).toEqual([1]);
        expect(await store.store.getAlias("wine", "candidate")).toBe(1);
        const trials = await store.store.studies!.listTrials("wine-grid");
        expect(trials.map((trial) => trial.state)).toEqual(new Array(total).fill("COMPLETE"));
        expect(trials[held]).toMatchObject({ attempt: 2 });
        const study = await store.store.studies!.getStudy("wine-grid");
        expect(study?.state).toBe("COMPLETE");
        const parent = await store.store.getRun(study!.runId);
        expect(parent.status).toBe("FINISHED");
        const runs = await store.store.searchRuns({ parentRunId: study!.runId });
        expect(runs.map((run) => Number(run.tags["mlops.trial"])).sort((a, b) => a - b)).toEqual(
          Array.from({ length: total }, (_, index) => index),
        );
        expect(runs.every((run) => run.status === "FINISHED")).toBe(true);
      } finally {
        await store.close();
      }
    }, 300_000);
  });
}
