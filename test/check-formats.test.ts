// Issue #7: parsers for Porcupine's history formats (Jepsen etcd logs, kv EDN lines).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJepsenLog, parseKvLog, checkLinearizability, porcupineKvModel } from '../src/check/index.ts';

test('issue #7: Jepsen etcd log → register history with pending and timed-out operations', () => {
  const log = [
    'INFO  jepsen.util - 0\t:invoke\t:read\tnil',
    'INFO  jepsen.util - 1\t:invoke\t:write\t3',
    'INFO  jepsen.util - 0\t:ok\t:read\tnil',
    'some unrelated line',
    'INFO  jepsen.util - 2   :invoke :cas    [3 4]',
    'INFO  jepsen.util - 1\t:info\t:write\t:timed-out',
    'INFO  jepsen.util - 2   :fail   :cas    [3 4]',
    'INFO  jepsen.util - 3\t:invoke\t:read\tnil',
    'INFO  jepsen.util - 3\t:fail\t:read\t:timed-out',
    'INFO  jepsen.util - 4\t:invoke\t:cas\t[0 1]',
    'INFO  jepsen.util - 5\t:invoke\t:read\tnil',
    'INFO  jepsen.util - 5\t:ok\t:read\t3',
    'INFO  jepsen.util - 4\t:ok\t:cas\t[0 1]',
  ].join('\n');
  const h = parseJepsenLog(log);
  assert.deepEqual(h, [
    { clientId: 0, input: { type: 'read' }, call: 0, output: { value: undefined }, return: 2 },
    { clientId: 1, input: { type: 'write', value: 3 }, call: 1, output: undefined, return: Infinity },
    { clientId: 2, input: { type: 'cas', expected: 3, value: 4 }, call: 4, output: { ok: false }, return: 6 },
    { clientId: 3, input: { type: 'read' }, call: 7, output: undefined, return: 8 },
    { clientId: 4, input: { type: 'cas', expected: 0, value: 1 }, call: 9, output: { ok: true }, return: 12 },
    { clientId: 5, input: { type: 'read' }, call: 10, output: { value: 3 }, return: 11 },
  ]);
});

test('issue #7: kv EDN lines → KV history; keys start empty in Porcupine\'s files', () => {
  const log = [
    '{:process 0, :type :invoke, :f :append, :key "k", :value "x 0 0 y"}',
    '{:process 1, :type :invoke, :f :get, :key "k", :value nil}',
    '{:process 0, :type :ok, :f :append, :key "k", :value "x 0 0 y"}',
    '{:process 1, :type :ok, :f :get, :key "k", :value ""}',
    '{:process 2, :type :invoke, :f :put, :key "j", :value "a \\"q\\""}',
    '{:process 2, :type :ok, :f :put, :key "j", :value "a \\"q\\""}',
    '{:process 3, :type :invoke, :f :get, :key "j", :value nil}',
    '',
  ].join('\n');
  const h = parseKvLog(log);
  assert.deepEqual(h, [
    { clientId: 0, input: { type: 'append', key: 'k', value: 'x 0 0 y' }, call: 0, output: {}, return: 2 },
    { clientId: 1, input: { type: 'get', key: 'k' }, call: 1, output: { value: '' }, return: 3 },
    { clientId: 2, input: { type: 'put', key: 'j', value: 'a "q"' }, call: 4, output: {}, return: 5 },
    { clientId: 3, input: { type: 'get', key: 'j' }, call: 6, output: undefined, return: Infinity },
  ]);
  assert.equal(checkLinearizability(porcupineKvModel, parseKvLog(log)).result, 'linearizable');
  assert.throws(() => parseKvLog('{:process 1, :type :invoke, :f :get, :key "k"'), /line 1/);
});

test('issue #7: kv lines in the usual shape (matched in place) and in any other EDN layout parse alike', () => {
  const usual = [
    '{:process 1, :type :invoke, :f :put, :key "a\\"b", :value "x\\\\y"}\r',
    '',
    '{:process 2, :type :invoke, :f :get, :key "k", :value nil}',
    '{:process 2, :type :ok, :f :get, :key "k", :value "v"}',
    '{:process 1, :type :ok, :f :put, :key "a\\"b", :value "x\\\\y"}',
    '{:process 3, :type :invoke, :f :append, :key "z", :value "12"}',
  ].join('\n');
  const other = [
    '{:type :invoke, :process 1, :f :put, :value "x\\\\y", :key "a\\"b"}',
    '   ',
    '{:process 2 :type :invoke :f :get :key "k" :value nil}',
    '  {:f :get, :process 2, :type :ok, :key "k", :value "v"}',
    '{:process 1, :type :ok, :f :put, :key "a\\"b", :value "x\\\\y"}  ',
    '{:process 3, :type :invoke, :f :append, :key "z", :value 12}',
  ].join('\n');
  const want = [
    { clientId: 1, input: { type: 'put', key: 'a"b', value: 'x\\y' }, call: 0, output: {}, return: 4 },
    { clientId: 2, input: { type: 'get', key: 'k' }, call: 2, output: { value: 'v' }, return: 3 },
    { clientId: 3, input: { type: 'append', key: 'z', value: '12' }, call: 5, output: undefined, return: Infinity },
  ];
  assert.deepEqual(parseKvLog(usual), want);
  assert.deepEqual(parseKvLog(other), want);
});

test('issue #7: Jepsen lines in the usual shape (matched in place) and in other spacing parse alike', () => {
  const usual = [
    'INFO  jepsen.util - 7\t:invoke\t:write\t5\r',
    'INFO  jepsen.util - 8\t:invoke\t:cas\t[5 6]',
    'INFO  jepsen.util - 7\t:ok\t:write\t5',
    'INFO  jepsen.util - 8\t:ok\t:cas\t[5 6]',
    'INFO  jepsen.util - 9\t:invoke\t:read\tnil',
    'INFO  jepsen.util - 9\t:ok\t:read\t6',
  ].join('\n');
  // Unicode spaces, a vertical tab and a stray control character send lines
  // to the line-by-line path; the fields are the same.
  const other = [
    '\u000bINFO\u00a0jepsen.util - 7 :invoke :write 5',
    'INFO jepsen.util -  8   :invoke   :cas   [5 6]\u00a0',
    '  INFO jepsen.util - 7 :ok :write 5\u0001',
    'INFO jepsen.util - 8 :ok :cas [5  6] ',
    'INFO\tjepsen.util\t-\t9\t:invoke\t:read\tnil',
    'INFO jepsen.util - 9 :ok :read 6',
  ].join('\n');
  const want = [
    { clientId: 7, input: { type: 'write', value: 5 }, call: 0, output: {}, return: 2 },
    { clientId: 8, input: { type: 'cas', expected: 5, value: 6 }, call: 1, output: { ok: true }, return: 3 },
    { clientId: 9, input: { type: 'read' }, call: 4, output: { value: 6 }, return: 5 },
  ];
  assert.deepEqual(parseJepsenLog(usual), want);
  assert.deepEqual(parseJepsenLog(other), want);
  assert.throws(() => parseJepsenLog('INFO jepsen.util - 1 :invoke :write x'), /line 1/);
});
