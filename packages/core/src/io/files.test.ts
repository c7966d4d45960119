// AtomicFile: the file appears under its name only once complete; large files are flushed to
// disk in the background as they grow, and a failed flush fails the file instead of being lost.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AtomicFile } from "./files.js";

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "mlops-atomic-"));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(folder, { recursive: true, force: true });
});

describe("AtomicFile background flushes", () => {
  it("flushes every flushEvery bytes while appending, and the file holds every byte", async () => {
    const path = join(folder, "out.csv");
    const file = await AtomicFile.create(path, { flushEvery: 250 });
    const datasync = vi.spyOn(file.handle, "datasync");
    const parts: string[] = [];
    for (let i = 0; i < 10; i++) {
      const part = `${String(i).repeat(99)}\n`;
      parts.push(part);
      await file.append(part);
    }
    // The third append passed 250 bytes: a flush started (later ones wait for it to finish).
    expect(datasync).toHaveBeenCalled();
    expect(await readdir(folder)).not.toContain("out.csv");
    await file.commit();
    expect(await readFile(path, "utf8")).toBe(parts.join(""));
    expect(file.bytesWritten).toBe(1000);
    expect(await readdir(folder)).toEqual(["out.csv"]);
  });

  it("appends views into larger buffers (shared ones too) and text, in order", async () => {
    const path = join(folder, "views.csv");
    const file = await AtomicFile.create(path);
    const shared = Buffer.from(new SharedArrayBuffer(64));
    shared.write("..a,b\n1,2\n..", "latin1");
    await file.append(new Uint8Array(shared.buffer, 2, 8));
    await file.append("3,4\n");
    await file.append(Buffer.from("xx5,6\n").subarray(2));
    await file.commit();
    expect(await readFile(path, "utf8")).toBe("a,b\n1,2\n3,4\n5,6\n");
    expect(file.bytesWritten).toBe(16);
  });

  it("starts no flush below flushEvery: commit's fsync does it all", async () => {
    const file = await AtomicFile.create(join(folder, "small.csv"));
    const datasync = vi.spyOn(file.handle, "datasync");
    await file.append("a,b\n1,2\n");
    await file.commit();
    expect(datasync).not.toHaveBeenCalled();
  });

  it("a failed background flush fails the next append and the commit; the old file stays", async () => {
    const path = join(folder, "out.csv");
    await writeFile(path, "previous\n");
    const file = await AtomicFile.create(path, { flushEvery: 10 });
    vi.spyOn(file.handle, "datasync").mockRejectedValue(
      Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }),
    );
    await file.append("0123456789abcdef\n");
    const failure = { name: "MlopsError", code: "file_write" };
    await expect(file.append("more\n")).rejects.toMatchObject({
      ...failure,
      message: expect.stringContaining(`${path}: cannot write (EIO)`),
    });
    await expect(file.commit()).rejects.toMatchObject(failure);
    // commit aborted: the temporary file is gone and the previous file untouched.
    expect(await readdir(folder)).toEqual(["out.csv"]);
    expect(await readFile(path, "utf8")).toBe("previous\n");
  });

  it("abort while a flush runs waits for it and removes the temporary file", async () => {
    const file = await AtomicFile.create(join(folder, "out.csv"), { flushEvery: 1 });
    let finish: () => void = () => {};
    vi.spyOn(file.handle, "datasync").mockReturnValue(
      new Promise<void>((resolve) => {
        finish = resolve;
      }),
    );
    await file.append("x\n");
    const aborted = file.abort();
    finish();
    await aborted;
    expect(await readdir(folder)).toEqual([]);
  });
});
