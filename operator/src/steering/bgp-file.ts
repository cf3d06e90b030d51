import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { type ParsedPrefixes, parsePrefixLines } from "./prefix-list.js";

/** The real BGP table the tests and benchmark use: 1,062,046 prefixes, one CIDR a line. */
export const BGP_TABLE_PATH = new URL("../../../../shared/data/bgp/tier1-prefixes.txt.gz", import.meta.url);

/** Reads a prefix file, gunzipping it when its name ends in ".gz". */
export async function readPrefixFile(path: string | URL = BGP_TABLE_PATH): Promise<ParsedPrefixes> {
  const raw = await readFile(path);
  const text = String(path).endsWith(".gz") ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
  return parsePrefixLines(text);
}
