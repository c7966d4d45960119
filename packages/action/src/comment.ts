import { readFile } from "node:fs/promises";

/** Where the comment goes: the pull request of the event that started the workflow. */
export interface PullRequestTarget {
  apiUrl: string;
  repository: string;
  number: number;
}

/**
 * The pull request of this run: `GITHUB_EVENT_PATH`'s `pull_request.number` (pull_request and
 * pull_request_target events) or `issue.number` when the issue is a pull request
 * (issue_comment), in `GITHUB_REPOSITORY`, through `GITHUB_API_URL` (GitHub Enterprise sets it).
 * Undefined when the event has no pull request (a push, a schedule).
 */
export async function pullRequestOf(
  env: Record<string, string | undefined>,
): Promise<PullRequestTarget | undefined> {
  const repository = env.GITHUB_REPOSITORY;
  if (!env.GITHUB_EVENT_PATH || !repository) return undefined;
  const event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, "utf8")) as {
    pull_request?: { number?: number };
    issue?: { number?: number; pull_request?: unknown };
  };
  const number =
    event.pull_request?.number ??
    (event.issue?.pull_request === undefined ? undefined : event.issue.number);
  if (typeof number !== "number") return undefined;
  const apiUrl = (env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, "");
  return { apiUrl, repository, number };
}

/** The hidden line that marks this model's gate comment, so a later run finds and edits it. */
export function commentMarker(model: string): string {
  return `<!-- mlops-gate: ${model.replace(/--/g, "- -")} -->`;
}

async function github(
  token: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: {
      accept: "application/vnd.github+json",
      authorization: `Bearer ${token}`,
      "x-github-api-version": "2022-11-28",
      "user-agent": "mlops-gate-action",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const text = (await response.text()).slice(0, 300);
    throw new Error(`${method} ${url} answered ${response.status}: ${text}`);
  }
  return response.json();
}

/**
 * Posts `markdown` as the gate comment of `target`, or edits the comment an earlier run posted
 * (found by its marker among the pull request's comments, page by page), so a pull request has
 * one gate comment per model however often the workflow runs. Resolves with the comment's URL
 * and whether it was created or updated.
 */
export async function upsertGateComment(
  token: string,
  target: PullRequestTarget,
  model: string,
  markdown: string,
): Promise<{ url: string; action: "created" | "updated" }> {
  const marker = commentMarker(model);
  const body = `${marker}\n${markdown}`;
  const repo = `${target.apiUrl}/repos/${target.repository}`;
  for (let page = 1; ; page += 1) {
    const comments = (await github(
      token,
      "GET",
      `${repo}/issues/${target.number}/comments?per_page=100&page=${page}`,
    )) as { id: number; body?: string; html_url: string }[];
    const mine = comments.find((comment) => comment.body?.startsWith(marker));
    if (mine !== undefined) {
      const updated = (await github(token, "PATCH", `${repo}/issues/comments/${mine.id}`, {
        body,
      })) as { html_url: string };
      return { url: updated.html_url, action: "updated" };
    }
    if (comments.length < 100) break;
  }
  const created = (await github(token, "POST", `${repo}/issues/${target.number}/comments`, {
    body,
  })) as { html_url: string };
  return { url: created.html_url, action: "created" };
}
