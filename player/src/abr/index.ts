import { bbaRule } from "./bba.js";
import { bolaRule } from "./bola.js";
import { throughputRule } from "./throughput.js";
import { type AnyAbrRule, erase } from "./types.js";

export type { AbrInput, AnyAbrRule, Decision, Download, Rendition } from "./types.js";

/** Every rule by name, in the order benchmarks print them. */
export const ABR_RULES: readonly AnyAbrRule[] = [erase(bbaRule), erase(bolaRule), erase(throughputRule)];
export const abrRule = (name: string): AnyAbrRule | undefined => ABR_RULES.find((r) => r.name === name);
