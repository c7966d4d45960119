/** The page's side of the JSON API: fetch, and an error that carries the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface PageConfig {
  location: string;
  writable: boolean;
  version: string;
  token: string | null;
}

export function pageConfig(): PageConfig {
  const text = document.getElementById("mlops-config")?.textContent ?? "{}";
  return JSON.parse(text) as PageConfig;
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = (await response.json().catch(() => undefined)) as
    | (T & { error?: { code: string; message: string } })
    | undefined;
  if (!response.ok || body === undefined) {
    throw new ApiError(
      response.status,
      body?.error?.code ?? "http_error",
      body?.error?.message ?? `${response.status} ${response.statusText}`,
    );
  }
  return body;
}

export async function sendJson<T>(
  method: "PUT" | "DELETE",
  path: string,
  body: unknown,
): Promise<T> {
  const config = pageConfig();
  const response = await fetch(path, {
    method,
    headers: { "content-type": "application/json", "x-mlops-token": config.token ?? "" },
    body: JSON.stringify(body),
  });
  const answer = (await response.json().catch(() => undefined)) as
    | (T & { error?: { code: string; message: string } })
    | undefined;
  if (!response.ok || answer === undefined) {
    throw new ApiError(
      response.status,
      answer?.error?.code ?? "http_error",
      answer?.error?.message ?? `${response.status}`,
    );
  }
  return answer;
}
