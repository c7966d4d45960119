import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { MlopsError } from "../errors/error.js";
import {
  aliasNotFound,
  checkAliasChange,
  checkCreateModel,
  checkModelRecord,
  checkVersionOptions,
  checkVersionRecord,
  foldAliases,
  historyTail,
  missingBlobError,
  modelNotFound,
  versionHeld,
  versionNotFound,
} from "./common.js";
import {
  appendLines,
  ensureDirectory,
  parseJsonLines,
  readIfExists,
  readJsonIfExists,
  writeFileAtomic,
} from "./files.js";
import { FolderArtifactStore } from "./folder-artifacts.js";
import { FolderRoot, type FolderStoreOptions, storedJson } from "./folder-root.js";
import { validateAlias, validateName, validateTags, validateVersion } from "./names.js";
import type {
  AliasChangeOptions,
  AliasHistoryEntry,
  ArtifactStore,
  CreateModelVersionOptions,
  CreateRegisteredModelOptions,
  ImportOutcome,
  ModelRegistryStore,
  ModelVersion,
  ModelVersionRecord,
  RegisteredModel,
  RegisteredModelRecord,
  TrackingStore,
} from "./types.js";

interface StoredModel {
  name: string;
  description: string;
  tags: Record<string, string>;
  createdAt: number;
}

type StoredVersion = Omit<ModelVersion, "aliases">;

/**
 * What a model-registry store is built over: the artifact store holding version bytes, and the
 * tracking store whose runs a version may name (a version's `runId` must be a run there).
 */
export interface ModelRegistryStoreDependencies {
  artifacts?: ArtifactStore;
  tracking?: Pick<TrackingStore, "getRun">;
}

/**
 * Registered models, versions and aliases in the registry folder (`models/`); version bytes are
 * blobs in the artifact store. See `FolderStore` for the layout and safety rules.
 *
 * @example
 * const models = new FolderModelRegistryStore("./.mlops");
 * const version = await models.createModelVersion("wine", { artifact: bytes });
 */
export class FolderModelRegistryStore implements ModelRegistryStore {
  readonly root: FolderRoot;
  readonly artifacts: ArtifactStore;
  readonly #tracking: Pick<TrackingStore, "getRun"> | undefined;

  constructor(
    root: string | FolderRoot,
    options: FolderStoreOptions & ModelRegistryStoreDependencies = {},
  ) {
    this.root = typeof root === "string" ? new FolderRoot(root, options) : root;
    this.artifacts = options.artifacts ?? new FolderArtifactStore(this.root);
    this.#tracking = options.tracking;
  }

  private modelPath(name: string, ...parts: string[]): string {
    return this.root.join("models", name, ...parts);
  }

  /** The stored model, or a `registry_not_found` error listing the models that exist. */
  private async readModel(name: string): Promise<StoredModel> {
    const model = await readJsonIfExists<StoredModel>(this.modelPath(name, "model.json"));
    // On a case-insensitive file system "Wine" finds the folder of "wine": not the same model.
    if (model && model.name === name) return model;
    throw modelNotFound(name, this.root.path, await this.modelNames());
  }

  private async modelNames(): Promise<string[]> {
    return this.root.list(this.root.join("models"));
  }

  private async versionNumbers(name: string): Promise<number[]> {
    const files = await this.root.list(this.modelPath(name, "versions"));
    return files
      .filter((file) => /^[1-9]\d*\.json$/.test(file))
      .map((file) => Number(file.slice(0, -5)))
      .sort((a, b) => a - b);
  }

  private async deletedNumbers(name: string): Promise<number[]> {
    const files = await this.root.list(this.modelPath(name, "versions"));
    return files
      .filter((file) => /^[1-9]\d*\.deleted\.json$/.test(file))
      .map((file) => Number(file.slice(0, -".deleted.json".length)));
  }

  async deleteModelVersion(name: string, version: number): Promise<ModelVersion> {
    validateName("model name", name);
    validateVersion(version);
    await this.readModel(name);
    return this.modelLock(name, async () => {
      const record = await this.readVersion(name, version);
      const aliases = foldAliases(await this.readHistory(name));
      const pointing = Object.keys(aliases)
        .filter((alias) => aliases[alias] === version)
        .sort();
      if (pointing.length > 0) throw versionHeld(name, version, pointing);
      // The tombstone first: a crash between the two writes leaves the version listed, not its
      // number free.
      await writeFileAtomic(
        this.modelPath(name, "versions", `${version}.deleted.json`),
        storedJson({ ...record, deletedAt: Date.now() }),
      );
      await unlink(this.modelPath(name, "versions", `${version}.json`));
      return this.withAliases(record, {});
    });
  }

  private async readHistory(name: string): Promise<AliasHistoryEntry[]> {
    const path = this.modelPath(name, "alias-history.jsonl");
    const bytes = await readIfExists(path);
    return bytes === undefined ? [] : parseJsonLines<AliasHistoryEntry>(path, bytes);
  }

  private async toRegisteredModel(model: StoredModel): Promise<RegisteredModel> {
    const [versions, history] = await Promise.all([
      this.versionNumbers(model.name),
      this.readHistory(model.name),
    ]);
    const latest = versions.at(-1);
    return {
      name: model.name,
      description: model.description,
      tags: { ...model.tags },
      createdAt: model.createdAt,
      aliases: foldAliases(history),
      ...(latest === undefined ? {} : { latestVersion: latest }),
    };
  }

  /** Under the model lock: the model, created when missing (`created` says so). */
  private async createModelLocked(
    name: string,
    options: CreateRegisteredModelOptions,
    mustBeNew: boolean,
  ): Promise<{ model: StoredModel; created: boolean }> {
    const existing = await readJsonIfExists<StoredModel>(this.modelPath(name, "model.json"));
    if (existing && existing.name === name) {
      if (mustBeNew) {
        throw new MlopsError(
          "registry_conflict",
          `model "${name}" already exists in ${this.root.path}`,
        );
      }
      return { model: existing, created: false };
    }
    const clash = (await this.modelNames()).find(
      (other) => other !== name && other.toLowerCase() === name.toLowerCase(),
    );
    if (clash || existing) {
      throw new MlopsError(
        "registry_conflict",
        `model name "${name}" clashes with existing model "${clash ?? existing?.name}": names ` +
          "that differ only in case share a folder on case-insensitive file systems",
      );
    }
    const model: StoredModel = {
      name,
      description: options.description ?? "",
      tags: validateTags(options.tags, "model tags"),
      createdAt: Date.now(),
    };
    await writeFileAtomic(this.modelPath(name, "model.json"), storedJson(model));
    return { model, created: true };
  }

  private async modelLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    await this.root.ensure();
    await ensureDirectory(this.modelPath(name));
    return this.root.lock(this.modelPath(name, ".lock"), `model "${name}"`, work);
  }

  async createRegisteredModel(
    name: string,
    options: CreateRegisteredModelOptions = {},
  ): Promise<RegisteredModel> {
    checkCreateModel(name, options);
    const { model } = await this.modelLock(name, () => this.createModelLocked(name, options, true));
    return this.toRegisteredModel(model);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    validateName("model name", name);
    return this.toRegisteredModel(await this.readModel(name));
  }

  async listRegisteredModels(): Promise<RegisteredModel[]> {
    const models: RegisteredModel[] = [];
    for (const name of await this.modelNames()) {
      const model = await readJsonIfExists<StoredModel>(this.modelPath(name, "model.json"));
      if (model) models.push(await this.toRegisteredModel(model));
    }
    return models;
  }

  private withAliases(version: StoredVersion, aliases: Record<string, number>): ModelVersion {
    const names = Object.keys(aliases).filter((alias) => aliases[alias] === version.version);
    return { ...version, aliases: names.sort() };
  }

  async createModelVersion(
    name: string,
    options: CreateModelVersionOptions,
  ): Promise<ModelVersion> {
    validateName("model name", name);
    const checked = checkVersionOptions(name, options);
    if (checked.runId !== undefined && this.#tracking) await this.#tracking.getRun(checked.runId);
    await this.root.ensure();
    // The bytes go first, outside the lock: a version file is only ever written for stored bytes.
    const { digest } = await this.artifacts.put(checked.artifact);
    const version = await this.modelLock(name, async () => {
      const { created } = await this.createModelLocked(name, {}, false);
      try {
        await ensureDirectory(this.modelPath(name, "versions"));
        await this.removeOrphans(this.modelPath(name, "versions"));
        // Deleted versions keep their number (a tombstone): a URI never names other bytes.
        const taken = [...(await this.versionNumbers(name)), ...(await this.deletedNumbers(name))];
        const next = Math.max(0, ...taken) + 1;
        const record: StoredVersion = {
          name,
          version: next,
          digest,
          sizeBytes: checked.artifact.byteLength,
          ...(checked.runId === undefined ? {} : { runId: checked.runId }),
          ...(checked.description === undefined ? {} : { description: checked.description }),
          tags: checked.tags,
          metadata: checked.metadata,
          createdAt: Date.now(),
        };
        const pauseAt = this.root.pauseAt;
        await writeFileAtomic(
          this.modelPath(name, "versions", `${next}.json`),
          storedJson(record),
          {
            beforeRename: pauseAt
              ? () => pauseAt("version-temp-written", `model "${name}"`)
              : undefined,
          },
        );
        return record;
      } catch (error) {
        // Leave the registry as it was: a model created by this call goes again with its version.
        if (created) await unlink(this.modelPath(name, "model.json")).catch(() => {});
        throw error;
      }
    });
    return this.withAliases(version, {});
  }

  /** Deletes temporary files left by writers that died (only called under the model lock). */
  private async removeOrphans(directory: string): Promise<void> {
    let entries: string[] = [];
    try {
      entries = await readdir(directory);
    } catch {
      return;
    }
    await Promise.all(
      entries
        .filter((entry) => entry.startsWith(".") && entry.endsWith(".tmp"))
        .map((entry) => unlink(join(directory, entry)).catch(() => {})),
    );
  }

  private async readVersion(name: string, version: number): Promise<StoredVersion> {
    const record = await readJsonIfExists<StoredVersion>(
      this.modelPath(name, "versions", `${version}.json`),
    );
    if (record) return record;
    await this.readModel(name);
    throw versionNotFound(name, version, await this.versionNumbers(name));
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    validateName("model name", name);
    validateVersion(version);
    await this.readModel(name);
    const [record, history] = await Promise.all([
      this.readVersion(name, version),
      this.readHistory(name),
    ]);
    return this.withAliases(record, foldAliases(history));
  }

  async getLatestModelVersion(name: string): Promise<ModelVersion> {
    validateName("model name", name);
    await this.readModel(name);
    const latest = (await this.versionNumbers(name)).at(-1);
    if (latest === undefined) {
      throw new MlopsError("registry_not_found", `model "${name}" has no versions yet`);
    }
    return this.getModelVersion(name, latest);
  }

  async listModelVersions(name: string): Promise<ModelVersion[]> {
    validateName("model name", name);
    await this.readModel(name);
    const [numbers, history] = await Promise.all([
      this.versionNumbers(name),
      this.readHistory(name),
    ]);
    const aliases = foldAliases(history);
    const versions = await Promise.all(numbers.map((number) => this.readVersion(name, number)));
    return versions.map((version) => this.withAliases(version, aliases));
  }

  async readModelArtifact(name: string, version: number): Promise<Uint8Array> {
    const record = await this.getModelVersion(name, version);
    return this.artifacts.get(record.digest, { what: `model "${name}" version ${version}` });
  }

  private async appendAliasMove(
    name: string,
    alias: string,
    toVersion: number | null,
    options: AliasChangeOptions,
  ): Promise<AliasHistoryEntry> {
    const { actor, reason } = checkAliasChange(options);
    await this.readModel(name);
    if (toVersion !== null) await this.readVersion(name, toVersion);
    return this.modelLock(name, async () => {
      const aliases = foldAliases(await this.readHistory(name));
      const fromVersion = Object.hasOwn(aliases, alias) ? aliases[alias] : null;
      if (toVersion === null && fromVersion === null) throw aliasNotFound(name, alias, aliases);
      const entry: AliasHistoryEntry = {
        name,
        alias,
        fromVersion,
        toVersion,
        actor,
        time: Date.now(),
        reason,
      };
      const pauseAt = this.root.pauseAt;
      await appendLines(
        this.modelPath(name, "alias-history.jsonl"),
        [entry],
        pauseAt ? () => pauseAt("alias-history-mid-append", `model "${name}"`) : undefined,
      );
      return entry;
    });
  }

  async setAlias(
    name: string,
    alias: string,
    version: number,
    options: AliasChangeOptions = {},
  ): Promise<AliasHistoryEntry> {
    validateName("model name", name);
    validateAlias(alias);
    validateVersion(version);
    return this.appendAliasMove(name, alias, version, options);
  }

  async deleteAlias(
    name: string,
    alias: string,
    options: AliasChangeOptions = {},
  ): Promise<AliasHistoryEntry> {
    validateName("model name", name);
    validateAlias(alias);
    return this.appendAliasMove(name, alias, null, options);
  }

  async getAlias(name: string, alias: string): Promise<number> {
    validateName("model name", name);
    validateAlias(alias);
    await this.readModel(name);
    const aliases = foldAliases(await this.readHistory(name));
    if (!Object.hasOwn(aliases, alias)) throw aliasNotFound(name, alias, aliases);
    return aliases[alias];
  }

  async listAliases(name: string): Promise<Record<string, number>> {
    validateName("model name", name);
    await this.readModel(name);
    return foldAliases(await this.readHistory(name));
  }

  async getAliasHistory(
    name: string,
    options: { alias?: string } = {},
  ): Promise<AliasHistoryEntry[]> {
    validateName("model name", name);
    if (options.alias !== undefined) validateAlias(options.alias);
    await this.readModel(name);
    const history = await this.readHistory(name);
    return options.alias === undefined
      ? history
      : history.filter((entry) => entry.alias === options.alias);
  }

  async importRegisteredModel(record: RegisteredModelRecord): Promise<ImportOutcome> {
    const model = checkModelRecord(record);
    return this.modelLock(model.name, async () => {
      const existing = await readJsonIfExists<StoredModel>(
        this.modelPath(model.name, "model.json"),
      );
      if (existing && existing.name === model.name) {
        if (isDeepStrictEqual(existing, model)) return "unchanged";
        await writeFileAtomic(this.modelPath(model.name, "model.json"), storedJson(model));
        return "updated";
      }
      // The same checks as a new model (a name differing only in case is refused).
      await this.createModelLocked(model.name, {}, true);
      await writeFileAtomic(this.modelPath(model.name, "model.json"), storedJson(model));
      return "created";
    });
  }

  async importModelVersion(record: ModelVersionRecord): Promise<ImportOutcome> {
    const version = checkVersionRecord(record);
    const { name } = version;
    await this.readModel(name);
    if (version.runId !== undefined && this.#tracking) await this.#tracking.getRun(version.runId);
    if (!(await this.artifacts.has(version.digest))) {
      throw missingBlobError(version);
    }
    return this.modelLock(name, async () => {
      const path = this.modelPath(name, "versions", `${version.version}.json`);
      const existing = await readJsonIfExists<StoredVersion>(path);
      if (existing) {
        if (isDeepStrictEqual(existing, version)) return "unchanged";
        throw new MlopsError(
          "registry_conflict",
          `model "${name}" version ${version.version} already exists here with other contents ` +
            `(${existing.digest}, not ${version.digest}); versions are immutable`,
        );
      }
      await ensureDirectory(this.modelPath(name, "versions"));
      await writeFileAtomic(path, storedJson(version));
      return "created";
    });
  }

  async importAliasHistory(name: string, history: AliasHistoryEntry[]): Promise<ImportOutcome> {
    validateName("model name", name);
    await this.readModel(name);
    return this.modelLock(name, async () => {
      const tail = historyTail(name, await this.readHistory(name), history);
      if (tail.length === 0) return "unchanged";
      for (const entry of tail) {
        if (entry.toVersion !== null) await this.readVersion(name, entry.toVersion);
      }
      await appendLines(this.modelPath(name, "alias-history.jsonl"), tail);
      return "updated";
    });
  }
}
