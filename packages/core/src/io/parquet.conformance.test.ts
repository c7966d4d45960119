import { describeFormatConformance } from "../testing/formats.js";
import { parquetFormat } from "./parquet.js";

describeFormatConformance(parquetFormat, { typed: true });
