import { describe, expect, it } from "vitest";
import { MlopsError } from "../errors/error.js";
import { CommandFailure, ERROR_KINDS, type ExitCodes, exitCodeFor } from "./exit.js";
import { parseCommandLine, UsageError } from "./options.js";
import { defineCommand, type Program, programHelp, runProgram } from "./program.js";
import { closestName } from "./suggest.js";

const EXIT: ExitCodes = {
  usage: 2,
  not_found: 2,
  conflict: 2,
  data: 3,
  registry: 4,
  read: 4,
  write: 4,
  internal: 1,
  help: [
    [0, "success"],
    [2, "usage"],
  ],
};

function buffers() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
      env: {},
      cwd: "/",
    },
  };
}

async function run(program: Program<unknown>, argv: string[]) {
  const { out, io } = buffers();
  const code = await runProgram(program, argv, io);
  return { code, ...out };
}

const seen: unknown[] = [];

const modelsList = defineCommand({
  name: "models list",
  summary: "list the models",
  options: { max: { type: "string", value: "N", description: "at most N" } },
  async run({ options }) {
    seen.push(options);
    return { text: "two models\n", json: { models: 2 } };
  },
});

const modelsShow = defineCommand({
  name: "models show",
  summary: "show one model",
  args: [
    { name: "MODEL", description: "the model" },
    { name: "FIELD", description: "one field", optional: true },
  ],
  options: {},
  async run({ args }) {
    if (args[0] === "missing") throw new MlopsError("registry_not_found", "no model missing");
    if (args[0] === "corrupt") throw new MlopsError("artifact_corrupt", "digest mismatch");
    if (args[0] === "busy") throw new CommandFailure("port taken", 7);
    if (args[0] === "bug") throw new TypeError("undefined is not a function");
    return { text: `model ${args.join(" ")}\n` };
  },
});

const aliasSet = defineCommand({
  name: "alias set",
  summary: "move an alias",
  options: {
    reason: { type: "string", value: "TEXT", required: true, description: "why" },
    tag: { type: "string", value: "TAG", multiple: true, list: true, description: "tags" },
    dry: { type: "boolean", description: "do nothing" },
  },
  async run({ options }) {
    // Typed from the specs: a required string, an array, a boolean.
    const reason: string = options.reason;
    const tags: string[] = options.tag;
    const dry: boolean = options.dry;
    return { text: `${reason} ${tags.join("+")} ${dry}\n`, exitCode: dry ? 0 : 5 };
  },
});

const suite: Program = {
  name: "tool",
  summary: "a tool with commands",
  version: "1.2.3",
  json: true,
  options: { registry: { type: "string", value: "PATH", description: "where" } },
  commands: [modelsList, modelsShow, aliasSet],
  exitCodes: EXIT,
};

describe("parseCommandLine", () => {
  const specs = {
    trials: { type: "string", value: "N", description: "settings to try" },
    drop: { type: "string", value: "COLUMN", multiple: true, list: true, description: "drop" },
    threshold: { type: "string", value: "RULE", multiple: true, description: "a rule" },
    json: { type: "boolean", description: "JSON" },
    help: { type: "boolean", short: "h", description: "help" },
  } as const;

  it("gives switches false, repeatable options [] and the rest undefined when absent", () => {
    const { values, positionals } = parseCommandLine(["word"], specs);
    expect(values).toEqual({ drop: [], threshold: [], json: false, help: false });
    expect(positionals).toEqual(["word"]);
  });

  it("accepts a comma-separated list where the option says so, and repeats alike", () => {
    const { values } = parseCommandLine(
      ["--drop", "a,b", "--drop=c", "--threshold", "rmse:a=1,b=2", "-h", "--trials=-1"],
      specs,
    );
    expect(values.drop).toEqual(["a", "b", "c"]);
    // A gate rule holds commas itself: no list there.
    expect(values.threshold).toEqual(["rmse:a=1,b=2"]);
    expect(values.help).toBe(true);
    expect(values.trials).toBe("-1");
  });

  it("says which option is wrong, in one wording, with a suggestion when one is close", () => {
    const message = (argv: string[]) => {
      try {
        parseCommandLine(argv, specs, { helpFor: "tool go" });
      } catch (error) {
        expect(UsageError.isInstance(error)).toBe(true);
        expect((error as UsageError).helpFor).toBe("tool go");
        return (error as Error).message;
      }
      throw new Error("no error");
    };
    expect(message(["--trails", "5"])).toBe('unknown option "--trails" (did you mean "--trials"?)');
    expect(message(["--Drop", "x"])).toBe('unknown option "--Drop" (did you mean "--drop"?)');
    expect(message(["--banana"])).toBe('unknown option "--banana"');
    expect(message(["-x"])).toBe('unknown option "-x"');
    expect(message(["--trials"])).toMatch(/^option --trials needs a value \(N\); write --trials=/);
    expect(message(["--trials", "--json"])).toMatch(/^option --trials needs a value/);
    expect(message(["--json=yes"])).toBe("option --json takes no value");
    expect(message(["--drop", "a,,b"])).toBe(
      'option --drop: empty item in "a,,b"; write --drop A,B or repeat --drop',
    );
  });
});

describe("closestName", () => {
  it("finds typos, swapped letters and other spellings, and nothing for unrelated words", () => {
    expect(closestName("trails", ["trials", "cv", "seed"])).toBe("trials");
    expect(closestName("prot", ["port", "host", "log"])).toBe("port");
    expect(closestName("max_depth", ["maxDepth", "minSamplesLeaf"])).toBe("maxDepth");
    expect(closestName("experment", ["experiment", "filter"])).toBe("experiment");
    expect(closestName("cv", ["cvs", "jobs"])).toBe("cvs");
    expect(closestName("banana", ["trials", "cv"])).toBeUndefined();
    expect(closestName("ab", ["xy"])).toBeUndefined();
  });
});

describe("runProgram", () => {
  it("runs the command the words name, with its typed options and arguments", async () => {
    expect(await run(suite, ["models", "show", "wine", "schema"])).toEqual({
      code: 0,
      stdout: "model wine schema\n",
      stderr: "",
    });
    const set = await run(suite, ["alias", "set", "--reason", "ok", "--tag", "a,b", "--tag", "c"]);
    expect(set).toEqual({ code: 5, stdout: "ok a+b+c false\n", stderr: "" });
    const json = await run(suite, ["--json", "models", "list", "--max", "3"]);
    expect(JSON.parse(json.stdout)).toEqual({ models: 2 });
    expect(seen.at(-1)).toEqual({ max: "3" });
  });

  it("suggests the command meant, and lists what exists", async () => {
    const group = await run(suite, ["modles", "list"]);
    expect(group.code).toBe(2);
    expect(group.stderr).toBe(
      'tool: unknown command "modles" (did you mean "models"?); commands: "models", "alias"\n' +
        'Run "tool --help" for usage.\n',
    );
    const name = await run(suite, ["models", "lsit"]);
    expect(name.stderr).toBe(
      'tool: unknown command "models lsit" (did you mean "models list"?); "models" has ' +
        '"list", "show"\nRun "tool models --help" for usage.\n',
    );
    const missing = await run(suite, []);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Usage: tool COMMAND [ARGS] [OPTIONS]\n");
    expect(missing.stderr).toMatch(/tool: missing command\nRun "tool --help" for usage.\n$/);
  });

  it("checks arguments and required options after --help had its chance", async () => {
    const noReason = await run(suite, ["alias", "set"]);
    expect(noReason).toEqual({
      code: 2,
      stdout: "",
      stderr: 'tool: missing option --reason TEXT\nRun "tool alias set --help" for usage.\n',
    });
    const help = await run(suite, ["alias", "set", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      "Usage: tool alias set --reason TEXT [--tag TAG ...] [--dry]\n\nmove an alias\n",
    );
    expect(help.stdout).toContain("  --tag TAG      tags (repeatable, or A,B)\n");
    const noModel = await run(suite, ["models", "show"]);
    expect(noModel.stderr).toMatch(/^tool: missing argument MODEL; usage: tool models show MODEL/);
    const extra = await run(suite, ["models", "show", "a", "b", "c"]);
    expect(extra.stderr).toMatch(/^tool: unexpected argument "c"; usage:/);
  });

  it("maps each failure to the tool's exit code, with --json also on stdout", async () => {
    const notFound = await run(suite, ["models", "show", "missing", "--json"]);
    expect(notFound.code).toBe(2);
    expect(notFound.stderr).toBe("tool: no model missing\n");
    expect(JSON.parse(notFound.stdout)).toEqual({
      error: { code: "registry_not_found", message: "no model missing" },
    });
    expect((await run(suite, ["models", "show", "corrupt"])).code).toBe(4);
    const failure = await run(suite, ["models", "show", "busy", "--json"]);
    expect(failure).toMatchObject({ code: 7, stderr: "tool: port taken\n" });
    expect(JSON.parse(failure.stdout).error.code).toBe("failed");
    const bug = await run(suite, ["models", "show", "bug"]);
    expect(bug.code).toBe(1);
    expect(bug.stderr).toMatch(/^tool: unexpected error: TypeError: undefined is not a function\n/);
    expect(bug.stderr).toContain("program.test.ts");
    const usage = await run(suite, ["models", "list", "--mxa", "1", "--json"]);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: { code: "usage", message: 'unknown option "--mxa" (did you mean "--max"?)' },
    });
  });

  it("gives every error code a kind, so each tool has an exit code for it", () => {
    for (const [code, kind] of Object.entries(ERROR_KINDS)) {
      expect(EXIT[kind], code).toBeTypeOf("number");
      expect(exitCodeFor(new MlopsError(code as never, "x"), EXIT)).toBe(EXIT[kind]);
    }
    expect(exitCodeFor(new UsageError("x"), EXIT)).toBe(2);
  });

  it("prints the version, and help for the tool, a group and a command, on stdout", async () => {
    expect(await run(suite, ["--version"])).toEqual({ code: 0, stdout: "1.2.3\n", stderr: "" });
    const tool = await run(suite, ["--help"]);
    expect(tool.stdout).toMatch(/^tool — a tool with commands\n\nUsage: tool COMMAND/);
    expect(tool.stdout).toContain("  models list  list the models\n");
    expect(tool.stdout).toContain("  --registry PATH  where\n");
    expect(tool.stdout).toContain("Exit codes:\n  0  success\n  2  usage\n");
    expect((await run(suite, ["models", "--help"])).stdout).toMatch(
      /^Usage: tool models list\|show/,
    );
    expect((await run(suite, ["help", "models", "show"])).stdout).toMatch(
      /^Usage: tool models show MODEL \[FIELD\]\n/,
    );
  });

  it("runs a tool that is one command, its words being its arguments", async () => {
    const single: Program = {
      name: "one",
      summary: "does one thing",
      version: "0.0.1",
      commands: [
        defineCommand({
          name: "",
          summary: "does one thing",
          description: `${"A long description that wraps. ".repeat(8)}`,
          options: { port: { type: "string", value: "N", description: "port" } },
          async run({ options }) {
            return { text: `port ${options.port}\n` };
          },
        }),
      ],
      exitCodes: EXIT,
    };
    expect((await run(single, ["--port", "80"])).stdout).toBe("port 80\n");
    const typo = await run(single, ["--prot", "80"]);
    expect(typo.stderr).toBe(
      'one: unknown option "--prot" (did you mean "--port"?)\nRun "one --help" for usage.\n',
    );
    expect((await run(single, ["extra"])).stderr).toMatch(/^one: unexpected argument "extra"/);
    const help = (await run(single, ["-h"])).stdout;
    expect(help).toMatch(/^one — does one thing\n\nUsage:\n {2}one \[--port N\]\n/);
    expect(help).toContain("  --port N    port\n  -h, --help  show this help\n");
    for (const line of help.split("\n")) expect(line.length).toBeLessThanOrEqual(100);
  });

  it("refuses an option declared with two types, which would make parsing ambiguous", async () => {
    const broken: Program = {
      ...suite,
      commands: [
        ...suite.commands,
        defineCommand({
          name: "models delete",
          summary: "delete",
          options: { max: { type: "boolean", description: "all" } },
          async run() {
            return 0;
          },
        }),
      ],
    };
    const { code, stderr } = await run(broken, ["models", "list"]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      'option --max of "models delete" is a boolean option but a string option elsewhere',
    );
  });

  it("also declares its program help without running it", () => {
    expect(programHelp(suite, "alias")).toMatch(/^Usage: tool alias set \.\.\./);
    expect(programHelp(suite, "nope")).toBeUndefined();
  });
});
