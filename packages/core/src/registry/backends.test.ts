import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectMlopsError } from "../testing/registry.js";
import {
  openStore,
  parseRegistryLocation,
  registerRegistryBackend,
  registryBackendSchemes,
  resolveRegistryLocation,
} from "./backends.js";
import { redactLocation } from "./common.js";
import { openExistingRegistry } from "./existing.js";
import { FolderStore, openFolderStore } from "./folder.js";
import { openRegistry } from "./registry.js";

let scratch = "";

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "mlops-backends-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("parseRegistryLocation", () => {
  it("reads folders, file: URLs and backend URLs", () => {
    expect(parseRegistryLocation("./.mlops", "/work")).toEqual({
      kind: "folder",
      path: resolve("/work", ".mlops"),
    });
    expect(parseRegistryLocation("/srv/registry", "/work")).toEqual({
      kind: "folder",
      path: "/srv/registry",
    });
    expect(parseRegistryLocation("file:///srv/registry")).toEqual({
      kind: "folder",
      path: "/srv/registry",
    });
    expect(parseRegistryLocation("file:reg", "/work")).toEqual({
      kind: "folder",
      path: resolve("/work", "reg"),
    });
    expect(parseRegistryLocation("postgres://ana@db:5432/mlops")).toEqual({
      kind: "url",
      scheme: "postgres",
      url: "postgres://ana@db:5432/mlops",
    });
    expect(parseRegistryLocation("PostgreSQL://db/mlops").kind).toBe("url");
    // A drive letter is not a scheme.
    expect(parseRegistryLocation("C:\\models", "/work").kind).toBe("folder");
    for (const bad of ["", "  "]) {
      expect(() => parseRegistryLocation(bad)).toThrow(/expected a folder path or a URL/);
    }
  });

  it("resolves a command line's --registry, else MLOPS_REGISTRY, else ./.mlops", () => {
    expect(resolveRegistryLocation("reg", {}, "/work")).toBe(resolve("/work", "reg"));
    expect(resolveRegistryLocation("postgres://db/x", {}, "/work")).toBe("postgres://db/x");
    expect(resolveRegistryLocation(undefined, { MLOPS_REGISTRY: "postgres://db/x" }, "/w")).toBe(
      "postgres://db/x",
    );
    expect(resolveRegistryLocation(undefined, { MLOPS_REGISTRY: "shared" }, "/w")).toBe(
      resolve("/w", "shared"),
    );
    expect(resolveRegistryLocation(undefined, {}, "/w")).toBe(resolve("/w", ".mlops"));
  });
});

describe("redactLocation", () => {
  it("hides passwords in the user info and the query, whatever they contain", () => {
    expect(redactLocation("postgres://ana:s3cret@db/mlops")).toBe("postgres://ana:***@db/mlops");
    expect(redactLocation("postgres://ana:p@ss/w:rd@db:5432/mlops?schema=x")).toBe(
      "postgres://ana:***@db:5432/mlops?schema=x",
    );
    expect(redactLocation("postgres://db/mlops?user=ana&password=s3cret&ssl=1")).toBe(
      "postgres://db/mlops?user=ana&password=***&ssl=1",
    );
    expect(redactLocation("postgres://ana@db/mlops")).toBe("postgres://ana@db/mlops");
    expect(redactLocation("/srv/registry")).toBe("/srv/registry");
  });
});

describe("openStore", () => {
  it("opens and creates folders, and refuses a missing one when it must exist", async () => {
    const path = join(scratch, "created");
    const store = await openStore(path);
    expect(store).toBeInstanceOf(FolderStore);
    expect(store.location).toBe(path);
    expect(existsSync(join(path, "registry.json"))).toBe(true);
    await store.close();
    const missing = join(scratch, "missing");
    await expectMlopsError(
      openStore(missing, { mustExist: true, hint: "(set --registry)" }),
      "registry_not_found",
      `no registry at ${missing} (set --registry)`,
    );
    await expectMlopsError(openExistingRegistry(missing), "registry_not_found");
    expect(existsSync(missing)).toBe(false);
    const viaUrl = await openRegistry(pathToFileURL(path).href);
    expect(viaUrl.location).toBe(path);
  });

  it("refuses an unknown scheme instead of creating a folder named after it", async () => {
    const cwd = await mkdtemp(join(scratch, "cwd-"));
    const error = await expectMlopsError(
      openStore("s3://bucket/registry", { cwd }),
      "registry_location_invalid",
      /unknown scheme "s3:"; expected a folder path or one of file:, postgres:, postgresql:/,
    );
    expect(error.message).toContain("s3://bucket/registry");
    await expectMlopsError(
      openRegistry("mysql://ana:s3cret@db/x", { cwd }),
      "registry_location_invalid",
      /mysql:\/\/ana:\*\*\*@db\/x/,
    );
    expect(await readdir(cwd)).toEqual([]);
    // Nor does the folder store take a URL for a folder.
    expect(() => new FolderStore("postgres://ana:s3cret@db/x")).toThrow(
      /"postgres:\/\/ana:\*\*\*@db\/x" is a URL, not a folder/,
    );
    await expectMlopsError(openFolderStore("postgres://db/x"), "registry_location_invalid");
  });

  it("opens URLs with a registered backend", async () => {
    const folder = join(scratch, "memory-backed");
    const seen: string[] = [];
    registerRegistryBackend({
      name: "test",
      schemes: ["mlops-test"],
      open: async (url) => {
        seen.push(url);
        return openFolderStore(folder);
      },
    });
    expect(registryBackendSchemes()).toContain("mlops-test");
    const registry = await openRegistry("mlops-test://somewhere");
    await registry.store.createModelVersion("wine", { artifact: new Uint8Array([1]) });
    expect(seen).toEqual(["mlops-test://somewhere"]);
    expect((await (await openFolderStore(folder)).listRegisteredModels())[0].name).toBe("wine");
    await registry.close();
  });
});

describe("a postgres:// registry without @mlops/postgres", () => {
  it("names the package to install, from a bundle that cannot find it", async () => {
    // Bundle the real opening code into a folder outside the repository: from there the lazy
    // import("@mlops/postgres") cannot resolve, as in a project that did not install it.
    const here = dirname(fileURLToPath(import.meta.url));
    const outdir = await mkdtemp(join(tmpdir(), "mlops-no-postgres-"));
    try {
      await build({
        entryPoints: [join(here, "backends.ts")],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: join(outdir, "backends.mjs"),
        logLevel: "silent",
      });
      const script = join(outdir, "main.mjs");
      await writeFile(
        script,
        `import { openStore } from "./backends.mjs";
try {
  await openStore(process.env.MLOPS_REGISTRY, { cwd: ${JSON.stringify(outdir)} });
  console.log("opened");
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }));
}
`,
      );
      const result = spawnSync(process.execPath, [script], {
        cwd: outdir,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", MLOPS_REGISTRY: "postgres://ana:s3cret@db/mlops" },
        timeout: 100_000,
      });
      const outcome = JSON.parse(result.stdout.trim());
      expect(outcome).toEqual({
        code: "package_missing",
        message:
          "postgres: registries need the @mlops/postgres package, which is not installed: " +
          "npm install @mlops/postgres",
      });
      expect(result.stdout + result.stderr).not.toContain("s3cret");
      expect((await readdir(outdir)).sort()).toEqual(["backends.mjs", "main.mjs"]);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  });
});
