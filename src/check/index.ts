/**
 * Linearizability checking (Wing & Gong search with Lowe's memoisation and
 * P-compositionality, in the manner of Porcupine), built-in register and
 * key-value models, parsers for Porcupine's test-data formats, and an HTML
 * visualisation of a checked history.
 */
export { checkLinearizability } from './linearizability.ts';
export type {
  Operation,
  Model,
  CheckOptions,
  CheckResult,
  PartitionResult,
  Counterexample,
  Candidate,
  Verdict,
  TimeSource,
} from './types.ts';
export { createRegisterModel, registerModel } from './models/register.ts';
export type { RegisterInput, RegisterOutput, RegisterValue } from './models/register.ts';
export { createKvModel, kvModel, partitionByKey } from './models/kv.ts';
export type { KvInput, KvOutput, KvModelOptions, KvModel, KvState } from './models/kv.ts';
export { parseJepsenLog, readJepsenLog, parseKvLog, readKvLog, porcupineKvModel } from './formats/index.ts';
export type { RegisterHistory, KvHistory } from './formats/index.ts';
export { renderHistory } from './render.ts';
export type { RenderOptions } from './render.ts';
