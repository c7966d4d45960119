import { describe, expect, it } from "vitest";
import { allowedMethods, compilePattern, type RouteEntry } from "./routes.js";

describe("compilePattern (the fast path's matcher)", () => {
  it("matches static paths exactly", () => {
    const pattern = compilePattern("/invocations")!;
    expect(pattern.staticPath).toBe("/invocations");
    expect(pattern.match("/invocations")).toEqual({});
    expect(pattern.match("/invocations/")).toBeUndefined();
    expect(pattern.match("//invocations")).toBeUndefined();
  });

  it("reads parameters between static segments, percent-decoded as Hono does", () => {
    const pattern = compilePattern("/v2/models/:name/versions/:version/infer")!;
    expect(pattern.staticPath).toBeUndefined();
    expect(pattern.match("/v2/models/wine/versions/3/infer")).toEqual({
      name: "wine",
      version: "3",
    });
    expect(pattern.match("/v2/models/w%69ne/versions/3/infer")).toEqual({
      name: "wine",
      version: "3",
    });
    expect(pattern.match("/v2/models/a%2Fb/versions/3/infer")).toEqual({
      name: "a/b",
      version: "3",
    });
    for (const path of [
      "/v2/models/wine/infer",
      "/v2/models//versions/3/infer",
      "/v2/models/wine/versions//infer",
      "/v2/models/wine/version/3/infer",
      "/v2/models/wine/versions/3/4/infer",
      "/v2/models/%ZZ/versions/3/infer",
      "/v2/models/wine/versions/3/infer/",
    ]) {
      expect(pattern.match(path), path).toBeUndefined();
    }
  });

  it("takes a parameter at the end and one segment only", () => {
    const pattern = compilePattern("/v1/models/:name")!;
    expect(pattern.match("/v1/models/wine")).toEqual({ name: "wine" });
    expect(pattern.match("/v1/models/wine/predict")).toBeUndefined();
    expect(pattern.match("/v1/models/")).toBeUndefined();
  });

  it("leaves wildcards and optional parameters to Hono", () => {
    expect(compilePattern("/files/*")).toBeUndefined();
    expect(compilePattern("/a/:b?")).toBeUndefined();
    expect(compilePattern("/a/:b{[0-9]+}")).toBeUndefined();
  });
});

describe("allowedMethods", () => {
  it("lists each path's methods, HEAD with GET", () => {
    const handle = () => new Response(null);
    const info = { name: "x", scope: "health", protocol: "rest" } as const;
    const routes: RouteEntry[] = [
      { method: "GET", path: "/a", info, handle },
      { method: "POST", path: "/a", info, handle },
      { method: "PUT", path: "/b", info, handle },
    ];
    expect(Object.fromEntries(allowedMethods(routes))).toEqual({
      "/a": ["GET", "HEAD", "POST"],
      "/b": ["PUT"],
    });
  });
});
