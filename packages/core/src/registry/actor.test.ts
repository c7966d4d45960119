import { userInfo } from "node:os";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { currentActor, defaultRegistryPath } from "./actor.js";

describe("currentActor", () => {
  it("prefers GITHUB_ACTOR, then the OS user, and is never empty", () => {
    expect(currentActor({ GITHUB_ACTOR: "octocat" })).toBe("octocat");
    expect(currentActor({ GITHUB_ACTOR: "  " })).toBe(userInfo().username);
    expect(currentActor({})).not.toBe("");
  });
});

describe("defaultRegistryPath", () => {
  it("uses MLOPS_REGISTRY, else ./.mlops, resolved to an absolute path", () => {
    expect(defaultRegistryPath({}, "/work/project")).toBe(resolve("/work/project", ".mlops"));
    expect(defaultRegistryPath({ MLOPS_REGISTRY: "/srv/registry" }, "/x")).toBe("/srv/registry");
    expect(defaultRegistryPath({ MLOPS_REGISTRY: "shared/reg" }, "/x")).toBe(
      resolve("/x", "shared/reg"),
    );
    expect(defaultRegistryPath({ MLOPS_REGISTRY: " " }, "/x")).toBe(resolve("/x", ".mlops"));
  });
});
