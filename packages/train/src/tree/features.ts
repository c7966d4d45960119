import { SklearnRandom } from "./sklearn-random.js";

/**
 * scikit-learn's feature draw at a split: features are drawn without replacement
 * (Fisher–Yates on `features`) until `maxFeatures` non-constant ones were evaluated; features
 * found constant do not count, and the constants found at a node are remembered for its
 * descendants (`constants[0..known)`), which skip them without drawing effort. The draws use
 * scikit-learn's own generator (`SklearnRandom`), also when every feature is evaluated: the
 * visiting order decides ties between features, as there.
 */
export class FeatureSampler {
  readonly features: Int32Array;
  readonly constants: Int32Array;
  readonly #random: SklearnRandom;
  readonly #maxFeatures: number;

  constructor(featureCount: number, maxFeatures: number, seed: number) {
    this.features = new Int32Array(featureCount);
    for (let f = 0; f < featureCount; f++) this.features[f] = f;
    this.constants = new Int32Array(featureCount);
    this.#maxFeatures = maxFeatures;
    this.#random = new SklearnRandom(seed);
  }

  /**
   * Runs `evaluate(feature)` on the features drawn for one node; `evaluate` returns false for
   * a feature that is constant in the node. `known` constants come from the ancestors.
   * Returns the count of constants known after this node (for its children).
   */
  visit(known: number, evaluate: (feature: number) => boolean): number {
    const features = this.features;
    const constants = this.constants;
    const random = this.#random;
    const maxFeatures = this.#maxFeatures;
    let unvisited = features.length;
    let visited = 0;
    let found = 0;
    let drawn = 0;
    let total = known;
    while (unvisited > total && (visited < maxFeatures || visited <= found + drawn)) {
      visited++;
      let j = random.int(drawn, unvisited - found);
      if (j < known) {
        // A constant known from an ancestor: set it aside, it does not count.
        const swap = features[drawn];
        features[drawn] = features[j];
        features[j] = swap;
        drawn++;
        continue;
      }
      j += found;
      const feature = features[j];
      if (!evaluate(feature)) {
        features[j] = features[total];
        features[total] = feature;
        found++;
        total++;
        continue;
      }
      unvisited--;
      features[j] = features[unvisited];
      features[unvisited] = feature;
    }
    // Ancestors' constants keep their order for siblings; this node's new ones follow them.
    for (let i = 0; i < known; i++) features[i] = constants[i];
    for (let i = known; i < total; i++) constants[i] = features[i];
    return total;
  }
}
