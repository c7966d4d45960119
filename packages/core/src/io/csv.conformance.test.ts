import { describeFormatConformance } from "../testing/formats.js";
import { csvFormat } from "./csv.js";

describeFormatConformance(csvFormat);
