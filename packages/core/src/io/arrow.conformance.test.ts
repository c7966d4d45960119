import { describeFormatConformance } from "../testing/formats.js";
import { arrowFormat } from "./arrow.js";

describeFormatConformance(arrowFormat, { typed: true });
