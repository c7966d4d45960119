import { describeFormatConformance } from "../testing/formats.js";
import { jsonlFormat } from "./jsonl.js";

describeFormatConformance(jsonlFormat);
