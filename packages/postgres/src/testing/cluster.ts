/**
 * A throwaway PostgreSQL cluster for tests: `initdb` in a temporary folder, a server on a free
 * port of 127.0.0.1, a password-protected role and database, and `stop()` that removes it all.
 * PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user that
 * Debian's package creates (or a `mlops-pg` system user made on the spot).
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** A running test cluster. */
export interface PostgresCluster {
  /** `postgres://mlops:<password>@127.0.0.1:<port>/mlops`: a role that owns its database. */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** The cluster's folder (data, socket, log). */
  directory: string;
  /** Stops the server at once and deletes the folder. Safe to call twice. */
  stop(): Promise<void>;
  /** Runs SQL as the cluster's superuser (over the Unix socket). */
  admin<T = unknown>(sql: string, values?: unknown[]): Promise<T[]>;
}

/** Options of `startPostgresCluster`. */
export interface StartPostgresClusterOptions {
  /** Where `initdb`, `pg_ctl` and `postgres` are (default `$MLOPS_PG_BIN`, else Debian's 15). */
  binDir?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

const DEFAULT_BIN = "/usr/lib/postgresql/15/bin";

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

function idOf(user: string): RunAs | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
    return { uid, gid, name: user };
  } catch {
    return undefined;
  }
}

/** Under root: the user the server runs as (created when there is none). */
function serverUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = idOf("postgres") ?? idOf("mlops-pg");
  if (existing) return existing;
  execFileSync("useradd", [
    "--system",
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
    "mlops-pg",
  ]);
  const created = idOf("mlops-pg");
  if (!created) throw new Error("could not create the mlops-pg user to run PostgreSQL as");
  return created;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

function run(
  binary: string,
  args: string[],
  runAs: RunAs | undefined,
  cwd: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C", LC_ALL: "C" },
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${binary} ${args.join(" ")} exited with ${code}:\n${output}`)),
    );
  });
}

/**
 * Starts a new PostgreSQL cluster in a temporary folder; `stop()` it when done.
 *
 * @example
 * const cluster = await startPostgresCluster();
 * const registry = await openRegistry(cluster.url);
 * await registry.close();
 * await cluster.stop();
 */
export async function startPostgresCluster(
  options: StartPostgresClusterOptions = {},
): Promise<PostgresCluster> {
  const binDir = options.binDir ?? process.env.MLOPS_PG_BIN ?? DEFAULT_BIN;
  if (!existsSync(join(binDir, "initdb"))) {
    throw new Error(
      `PostgreSQL is not installed: ${join(binDir, "initdb")} is missing. Install it with ` +
        "`apt-get install postgresql-15` (scripts/system-deps.sh does) or set MLOPS_PG_BIN.",
    );
  }
  const runAs = serverUser();
  const directory = await mkdtemp(join(tmpdir(), "mlops-pg-"));
  const data = join(directory, "data");
  if (runAs) {
    await chown(directory, runAs.uid, runAs.gid);
  }
  await chmod(directory, 0o700);
  const admin = "mlops_admin";
  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      await run(
        join(binDir, "pg_ctl"),
        ["-D", data, "-m", "immediate", "-w", "stop"],
        runAs,
        directory,
      ).catch(() => {});
    }
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await run(
      join(binDir, "initdb"),
      [
        "-D",
        data,
        "-U",
        admin,
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
      ],
      runAs,
      directory,
    );
    let port = 0;
    for (let attempt = 0; ; attempt += 1) {
      port = await freePort();
      const settings: Record<string, string | number> = {
        port,
        listen_addresses: "127.0.0.1",
        unix_socket_directories: directory,
        max_connections: 300,
        fsync: "off",
        synchronous_commit: "off",
        full_page_writes: "off",
        shared_buffers: "64MB",
        ...options.settings,
      };
      const serverOptions = Object.entries(settings)
        .map(([name, value]) => `-c ${name}=${value}`)
        .join(" ");
      try {
        await run(
          join(binDir, "pg_ctl"),
          [
            "-D",
            data,
            "-l",
            join(directory, "server.log"),
            "-o",
            serverOptions,
            "-w",
            "-t",
            "120",
            "start",
          ],
          runAs,
          directory,
        );
        started = true;
        break;
      } catch (error) {
        // Another process took the port between the check and the start: try another.
        const log = await readFile(join(directory, "server.log"), "utf8").catch(() => "");
        if (attempt < 3 && /could not bind|Address already in use/.test(log)) continue;
        throw error;
      }
    }
    const password = randomBytes(18).toString("base64url");
    const adminSql = async <T>(sql: string, values: unknown[] = []): Promise<T[]> => {
      const client = new pg.Client({ host: directory, port, user: admin, database: "postgres" });
      await client.connect();
      try {
        return (await client.query(sql, values)).rows as T[];
      } finally {
        await client.end();
      }
    };
    await adminSql(`CREATE ROLE mlops LOGIN PASSWORD '${password}'`);
    await adminSql("CREATE DATABASE mlops OWNER mlops");
    return {
      url: `postgres://mlops:${password}@127.0.0.1:${port}/mlops`,
      host: "127.0.0.1",
      port,
      user: "mlops",
      password,
      database: "mlops",
      directory,
      stop,
      admin: adminSql,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
