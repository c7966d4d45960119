// @ts-expect-error: a plain .mjs script without types
import { buildClient } from "../../scripts/build-client.mjs";

export default async function setup(): Promise<void> {
  await buildClient();
}
