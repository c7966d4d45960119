// A registry writer in its own process, for the guarantee tests (guarantees.test.ts): it opens
// the PostgreSQL store from the built package, waits for "go", does its task and reports back.
// With `pauseAt`, it stops at that point of a write and waits to be killed.
import { openPostgresStore } from "@mlops/postgres";

const task = JSON.parse(process.env.MLOPS_TEST_TASK);
const send = (message) => new Promise((resolve) => process.send(message, resolve));

const store = await openPostgresStore(task.url, {
  maxConnections: 2,
  pauseAt: async (phase) => {
    if (phase !== task.pauseAt) return;
    await send({ paused: phase, pid: process.pid });
    // Stay inside the open transaction until the test kills this process.
    await new Promise(() => setInterval(() => {}, 1 << 30));
  },
});
await new Promise((resolve) => {
  process.once("message", resolve);
  process.send({ ready: true });
});
try {
  if (task.kind === "register") {
    const versions = [];
    for (let k = 0; k < task.count; k += 1) {
      const artifact = new TextEncoder().encode(`worker ${task.index} artifact ${k}`);
      const version = await store.createModelVersion(task.model, {
        artifact,
        tags: { worker: String(task.index), k: String(k) },
      });
      versions.push(version.version);
      await store.setAlias(task.model, "production", version.version, {
        actor: `worker-${task.index}`,
        reason: `version ${version.version}`,
      });
    }
    await send({ done: true, versions });
  } else if (task.kind === "version") {
    const artifact = new Uint8Array(task.bytes).map((_, index) => (index * 31 + 7) & 0xff);
    await store.createModelVersion(task.model, { artifact });
    await send({ done: true });
  } else if (task.kind === "alias") {
    await store.setAlias(task.model, "production", task.version);
    await send({ done: true });
  }
} catch (error) {
  await send({ error: { code: error.code, message: error.message } });
} finally {
  await store.close();
}
