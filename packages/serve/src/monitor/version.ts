import {
  type DriftReport,
  driftReportFromSketch,
  type Frame,
  ProfileSketch,
  type ResolvedDriftOptions,
  type SketchWindow,
  type TrainingProfile,
} from "@mlops/core";
import { ErrorWindow, type OnlineError } from "./errors-window.js";

/**
 * What `GET /v1/models/{name}/monitoring` answers: the drift report of the window (the same
 * JSON as `mlops drift --json`), which model version and window it is for, and the online error
 * from feedback.
 */
export interface MonitoringReport extends DriftReport {
  model: { name: string; version: string; variant: string | null; role: VariantRole };
  window: {
    /** The window's size: `{ rows }` or `{ milliseconds }`. */
    size: SketchWindow;
    /** Rows in the window now. */
    rows: number;
    /** Predictions seen since this version was loaded. */
    predictions: number;
  };
  online: OnlineError & {
    /** Feedback joined since this version was loaded. */
    total: number;
  };
  /** Whether the model has a training profile (drift needs one). */
  profiled: boolean;
}

/** How a version is served under a name: the one answering, an A/B variant, or a shadow. */
export type VariantRole = "primary" | "variant" | "shadow";

export interface VersionMonitorOptions {
  window: SketchWindow;
  blocks: number;
  now: () => number;
  drift: ResolvedDriftOptions;
}

/**
 * The monitoring of one served model version (one variant): a streaming sketch of its inputs
 * and predictions on the training profile's bins, and the online error of the feedback joined
 * to its predictions. Kept for as long as the version is served.
 */
export class VersionMonitor {
  readonly sketch: ProfileSketch | undefined;
  readonly errors: ErrorWindow;
  /** Predictions observed. */
  predictions = 0;
  /** Feedback values joined. */
  feedback = 0;

  constructor(
    readonly name: string,
    readonly version: string,
    readonly profile: TrainingProfile | undefined,
    readonly options: VersionMonitorOptions,
    readonly variant: string | null = null,
    readonly role: VariantRole = "primary",
  ) {
    this.sketch =
      profile === undefined
        ? undefined
        : new ProfileSketch(profile, {
            window: options.window,
            blocks: options.blocks,
            now: options.now,
          });
    this.errors = new ErrorWindow(options.window, options.blocks, options.now);
  }

  /** Counts one predicted row (the request's row object as sent, and its prediction). */
  observeRow(row: Readonly<Record<string, unknown>>, prediction: number): void {
    this.predictions++;
    this.sketch?.add(row, prediction);
  }

  /** Counts the rows of a predicted frame. */
  observeFrame(frame: Frame, predictions: Float64Array): void {
    this.predictions += predictions.length;
    this.sketch?.addFrame(frame, predictions);
  }

  /** Counts one joined feedback value. */
  observeFeedback(predicted: number, actual: number): void {
    this.feedback++;
    this.errors.add(predicted, actual);
  }

  /** The monitoring report of the window now. */
  report(): MonitoringReport {
    const online = { ...this.errors.summary(), total: this.feedback };
    const window = {
      size: this.options.window,
      rows: this.sketch?.rows ?? 0,
      predictions: this.predictions,
    };
    const model = {
      name: this.name,
      version: this.version,
      variant: this.variant,
      role: this.role,
    };
    if (this.profile === undefined || this.sketch === undefined) {
      const drift = emptyReport(this.options.drift);
      drift.notes = [
        `model "${this.name}" version ${this.version} has no training profile: drift cannot be measured (online error still is)`,
      ];
      return { ...drift, model, window, online, profiled: false };
    }
    const drift = driftReportFromSketch(this.profile, this.sketch.summary(), this.options.drift);
    return { ...drift, model, window, online, profiled: true };
  }
}

function emptyReport(options: ResolvedDriftOptions): DriftReport {
  return {
    dataset: {
      drifted: false,
      share: 0,
      threshold: options.datasetShare,
      verdict: "insufficient_data",
      features: 0,
      judged: 0,
      driftedFeatures: 0,
    },
    features: {},
    predictions: null,
    target: null,
    targetName: null,
    reference: { source: "profile", rows: 0 },
    current: { source: "sketch", rows: 0 },
    options,
  };
}
