import { userInfo } from "node:os";
import { resolve } from "node:path";

/**
 * Who is acting, for the alias history: `GITHUB_ACTOR` (set in GitHub Actions), else the OS
 * user name, else `USER` / `USERNAME`, else the numeric user id. Never empty.
 *
 * @example
 * currentActor(); // "ana" (or the GitHub user in a workflow)
 * currentActor({ GITHUB_ACTOR: "octocat" }); // "octocat"
 */
export function currentActor(env: NodeJS.ProcessEnv = process.env): string {
  const github = env.GITHUB_ACTOR?.trim();
  if (github) return github;
  try {
    const name = userInfo().username.trim();
    if (name) return name;
  } catch {
    // No passwd entry for this uid (common in containers): fall through to the environment.
  }
  const fromEnv = (env.USER ?? env.USERNAME ?? env.LOGNAME)?.trim();
  if (fromEnv) return fromEnv;
  return `uid:${process.getuid?.() ?? "unknown"}`;
}

/**
 * Where the registry lives: the `MLOPS_REGISTRY` environment variable, else `./.mlops`. A folder
 * comes back as an absolute path resolved against the working directory; a URL
 * (`postgres://…`) comes back as it is, for `openStore` to pick its backend.
 *
 * @example
 * defaultRegistryPath(); // "/home/ana/project/.mlops"
 * defaultRegistryPath({ MLOPS_REGISTRY: "/srv/registry" }); // "/srv/registry"
 * defaultRegistryPath({ MLOPS_REGISTRY: "postgres://db/mlops" }); // "postgres://db/mlops"
 */
export function defaultRegistryPath(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string {
  const configured = env.MLOPS_REGISTRY?.trim();
  // A URL (two-letter scheme at least, so C:\\models stays a path) is not resolved as a folder.
  if (configured && /^[A-Za-z][A-Za-z0-9+.-]+:/.test(configured)) return configured;
  return resolve(cwd, configured ? configured : ".mlops");
}
