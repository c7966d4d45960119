import { readdir, stat } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import { type FrameFormat, formatFor, formats, MlopsError } from "@mlops/core";

/** One input file of a batch run. */
export interface SourceFile {
  /** Absolute path. */
  readonly path: string;
  /** The path below its input (a folder's or a glob's base): the output keeps this layout. */
  readonly relative: string;
  readonly format: FrameFormat;
}

const GLOB_CHARS = /[*?[{]/;

/** True when `input` is a glob pattern rather than a path. */
export function isGlob(input: string): boolean {
  return GLOB_CHARS.test(input);
}

/**
 * A glob as a regular expression over `/`-separated relative paths: `*` and `?` stay inside a
 * folder, `**` crosses folders (`a/**\/b` also matches `a/b`), `{x,y}` alternates, `[...]`
 * is a character class.
 *
 * @example
 * globToRegExp("**\/*.csv").test("2024/01/sales.csv"); // true
 */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          out += "(?:[^/]*/)*";
        } else out += ".*";
      } else out += "[^/]*";
    } else if (char === "?") out += "[^/]";
    else if (char === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) out += "\\[";
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\");
        out += `[${body}]`;
        i = end;
      }
    } else if (char === "{") {
      braces++;
      out += "(?:";
    } else if (char === "}" && braces > 0) {
      braces--;
      out += ")";
    } else if (char === "," && braces > 0) out += "|";
    else out += char.replace(/[.+^$()|\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

/** Files a batch run may read: not hidden, not ours (`_mlops…`), in a known (or the given) format. */
function candidate(name: string): boolean {
  return !name.startsWith(".") && !name.startsWith("_");
}

function formatOf(path: string, format: FrameFormat | undefined): FrameFormat | undefined {
  if (format) return format;
  try {
    return formatFor(path);
  } catch {
    return undefined;
  }
}

function knownExtensions(format: FrameFormat | undefined): string {
  const list = format ? format.extensions : Object.values(formats).flatMap((f) => f.extensions);
  return list.join(", ");
}

async function walk(directory: string, into: string[]): Promise<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    throw new MlopsError(
      "file_read",
      `${directory}: cannot list the folder (${(error as NodeJS.ErrnoException).code ?? error})`,
      { cause: error, location: { file: directory } },
    );
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (!candidate(entry.name)) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) await walk(path, into);
    else if (entry.isFile()) into.push(path);
  }
}

/**
 * The input files of a batch run, in a stable order: a file; a folder (its files in a known
 * format, not its subfolders); or a glob (`data/**\/*.csv`, relative to `cwd`). Hidden files and
 * names starting with `_` are skipped. Throws `file_not_found` for a missing path and
 * `batch_no_input` when nothing matches.
 *
 * @example
 * const files = await resolveSources(["data/", "extra/*.parquet"], { cwd: process.cwd() });
 */
export async function resolveSources(
  inputs: string | readonly string[],
  options: { cwd?: string; format?: FrameFormat } = {},
): Promise<SourceFile[]> {
  const cwd = options.cwd ?? process.cwd();
  const list = typeof inputs === "string" ? [inputs] : [...inputs];
  if (list.length === 0) {
    throw new MlopsError("batch_no_input", "no input given: pass a file, a folder or a glob");
  }
  const files: SourceFile[] = [];
  for (const input of list) {
    const found = await resolveOne(input, cwd, options.format);
    if (found.length === 0) {
      throw new MlopsError(
        "batch_no_input",
        isGlob(input)
          ? `input ${input}: the pattern matches no file in a known format (${knownExtensions(options.format)})`
          : `input ${input}: the folder has no file in a known format (${knownExtensions(options.format)})`,
        { location: { file: input } },
      );
    }
    files.push(...found);
  }
  const seen = new Map<string, string>();
  for (const file of files) {
    const earlier = seen.get(file.path);
    if (earlier !== undefined) {
      throw new MlopsError(
        "argument_invalid",
        `input ${file.path} is named twice (by ${earlier} and again); each file is scored once`,
        { location: { file: file.path } },
      );
    }
    seen.set(file.path, file.relative);
  }
  return files;
}

async function resolveOne(
  input: string,
  cwd: string,
  format: FrameFormat | undefined,
): Promise<SourceFile[]> {
  if (isGlob(input)) {
    const parts = input.split(/[\\/]/);
    const firstGlob = parts.findIndex((part) => GLOB_CHARS.test(part));
    const baseParts = parts.slice(0, firstGlob);
    const base = resolve(cwd, baseParts.length === 0 ? "." : baseParts.join("/") || "/");
    const pattern = globToRegExp(parts.slice(firstGlob).join("/"));
    const all: string[] = [];
    try {
      await stat(base);
    } catch {
      return [];
    }
    await walk(base, all);
    const out: SourceFile[] = [];
    for (const path of all) {
      const rel = relative(base, path).split(sep).join("/");
      if (!pattern.test(rel)) continue;
      const found = formatOf(path, format);
      if (found) out.push({ path, relative: rel, format: found });
    }
    return out;
  }
  const path = isAbsolute(input) ? input : resolve(cwd, input);
  let info: import("node:fs").Stats;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MlopsError(
      code === "ENOENT" || code === "ENOTDIR" ? "file_not_found" : "file_read",
      code === "ENOENT" || code === "ENOTDIR"
        ? `input ${input}: no such file or folder`
        : `input ${input}: cannot read (${code ?? error})`,
      { cause: error, location: { file: input } },
    );
  }
  if (info.isFile()) {
    // A single file named explicitly: its extension must say the format (or format is given).
    return [{ path, relative: basename(path), format: format ?? formatFor(path) }];
  }
  const entries = await readdir(path, { withFileTypes: true });
  const out: SourceFile[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!entry.isFile() || !candidate(entry.name)) continue;
    const file = join(path, entry.name);
    // In a folder, the extension picks the files: the given format's, else any known format's.
    const name = entry.name.toLowerCase();
    const found = format
      ? format.extensions.some((extension) => name.endsWith(extension))
        ? format
        : undefined
      : formatOf(file, undefined);
    if (found) out.push({ path: file, relative: entry.name, format: found });
  }
  return out;
}
