/**
 * The embedded registry: a folder on disk, no server. Safe for many processes on one machine (or
 * a shared volume with working hard links and fsync) at once. Three stores share the folder, as
 * MLflow splits them: `FolderTrackingStore` (experiments, runs), `FolderModelRegistryStore`
 * (models, versions, aliases) and `FolderArtifactStore` (blobs); `FolderStore` opens all three.
 *
 * Layout (format "mlops.registry/v1"):
 *
 *   <root>/registry.json                  format marker: {"format": "mlops.registry/v1", ...}
 *   <root>/blobs/sha256/<ab>/<hex>        artifact bytes, content-addressed: written once, shared
 *   <root>/experiments/<id>.json          an Experiment (id "0", "Default", is implicit)
 *   <root>/experiments/.lock              guards experiment id allocation and name uniqueness
 *   <root>/runs/<runId>/run.json          a run: attributes, params, tags, latest metrics and the
 *                                         byte offset of metrics.jsonl they summarise
 *   <root>/runs/<runId>/metrics.jsonl     every metric logged, one JSON line each, append-only
 *   <root>/runs/<runId>/artifacts/<name>  pointer to a blob: {"name", "digest", "sizeBytes"}
 *   <root>/runs/<runId>/.lock             guards run.json updates and metric appends
 *   <root>/models/<name>/model.json       a RegisteredModel (name, description, tags, createdAt)
 *   <root>/models/<name>/versions/<n>.json  a ModelVersion, immutable once written
 *   <root>/models/<name>/alias-history.jsonl  every alias move, append-only; the current aliases
 *                                         are its fold, so a move is one durable append
 *   <root>/models/<name>/.lock            guards version allocation and alias moves
 *   <root>/studies/<name>/study.json      a distributed search: the study and its trials
 *   <root>/studies/<name>/.lock           guards claims, heartbeats and completions
 *   <root>/studies/<name>/.finish.lock    held by the worker finishing the study
 *
 * Safety rules:
 * - Every file is replaced atomically (temp file in the same directory, fsync, rename, fsync the
 *   directory) or appended as whole JSON lines with fsync. Names starting with "." are never
 *   entities: orphan temp files and lock files are invisible to listings.
 * - Writers that read-modify-write take the lock of what they change (see lock.ts); readers never
 *   lock: they see a file before or after a rename, and ignore a torn last JSON line (a writer
 *   killed mid-append). The next writer under the lock cuts the torn line off before appending.
 * - A version's blob is written before its version file, so a visible version always has its
 *   bytes; a failed or killed write leaves no version file.
 * - Every name is validated before anything touches the disk.
 */
import { defaultRegistryPath } from "./actor.js";
import { ComposedRegistryStore } from "./compose.js";
import { FolderArtifactStore } from "./folder-artifacts.js";
import { FolderModelRegistryStore } from "./folder-models.js";
import { FolderRoot, type FolderStoreOptions } from "./folder-root.js";
import { FolderStudyStore } from "./folder-studies.js";
import { FolderTrackingStore } from "./folder-tracking.js";

export { FolderArtifactStore } from "./folder-artifacts.js";
export { FolderModelRegistryStore, type ModelRegistryStoreDependencies } from "./folder-models.js";
export {
  FOLDER_REGISTRY_FORMAT,
  type FolderStoreOptions,
  type FolderStorePhase,
} from "./folder-root.js";
export { FolderStudyStore } from "./folder-studies.js";
export { FolderTrackingStore } from "./folder-tracking.js";

/**
 * The embedded registry: the tracking, model-registry and artifact stores over one folder (see
 * the layout at the top of this file). Safe for concurrent processes.
 *
 * @example
 * const store = new FolderStore("./.mlops");
 * const version = await store.createModelVersion("wine", { artifact: bytes });
 * await store.setAlias("wine", "production", version.version, { reason: "first model" });
 */
export class FolderStore extends ComposedRegistryStore {
  /** The registry folder (absolute or as given). */
  readonly root: string;
  override readonly tracking: FolderTrackingStore;
  override readonly models: FolderModelRegistryStore;
  override readonly artifacts: FolderArtifactStore;
  override readonly studies: FolderStudyStore;
  readonly #root: FolderRoot;

  constructor(root: string, options: FolderStoreOptions = {}) {
    const folder = new FolderRoot(root, options);
    const artifacts = new FolderArtifactStore(folder);
    const tracking = new FolderTrackingStore(folder, { artifacts });
    const models = new FolderModelRegistryStore(folder, { artifacts, tracking });
    const studies = new FolderStudyStore(folder, tracking);
    super({ tracking, models, artifacts, studies, location: root });
    this.root = root;
    this.tracking = tracking;
    this.models = models;
    this.artifacts = artifacts;
    this.studies = studies;
    this.#root = folder;
  }

  /** Creates the folder and its format marker, or checks that an existing folder is a registry. */
  ensureRoot(): Promise<void> {
    return this.#root.ensure();
  }
}

/**
 * Opens (creating when needed) the folder registry at `path`, by default `MLOPS_REGISTRY` or
 * `./.mlops`. Throws `registry_not_found` if the folder holds other files but no registry.
 *
 * @example
 * const store = await openFolderStore(); // ./.mlops
 * const version = await resolveModelUri(store, "models:/wine@production");
 */
export async function openFolderStore(
  path: string = defaultRegistryPath(),
  options: FolderStoreOptions = {},
): Promise<FolderStore> {
  const store = new FolderStore(path, options);
  await store.ensureRoot();
  return store;
}
