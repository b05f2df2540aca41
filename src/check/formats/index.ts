/** Parsers for third-party history formats (Porcupine's test data). */
export { parseJepsenLog, readJepsenLog, type RegisterHistory } from './jepsen.ts';
export { parseKvLog, readKvLog, porcupineKvModel, type KvHistory } from './kv-edn.ts';
