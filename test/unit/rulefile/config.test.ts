import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Config, configWords, isConfigMap, layerFromValues, nestedValue, type ConfigLayer, type ConfigMap } from '../../../src/rulefile/config.js';

function layer(values: ConfigMap, origin: string): ConfigLayer {
  return layerFromValues(values, origin);
}

function originsOf(c: Config): Record<string, string> {
  return Object.fromEntries(c.leaves().map((l) => [l.path, l.origin]));
}

describe('layerFromValues', () => {
  test('gives every leaf the one origin', () => {
    const l = layerFromValues({ a: { b: 1, c: { d: 'x' } }, list: [1, { z: 2 }], empty: {}, n: null }, 'O');
    assert.deepEqual(
      [...l.origins.entries()].sort(),
      [
        ['a.b', 'O'],
        ['a.c.d', 'O'],
        ['empty', 'O'],
        ['list', 'O'],
        ['n', 'O'],
      ],
    );
  });

  test('an empty layer has no origins', () => {
    assert.equal(layerFromValues({}, 'O').origins.size, 0);
  });
});

describe('nestedValue', () => {
  test('builds nested maps from a dotted path', () => {
    assert.deepEqual(nestedValue('a.b.c', 5), { a: { b: { c: 5 } } });
    assert.deepEqual(nestedValue('x', [1, 2]), { x: [1, 2] });
    assert.deepEqual(nestedValue('fit.order', null), { fit: { order: null } });
  });
});

describe('Config.apply', () => {
  test('maps merge deeply', () => {
    const c = new Config();
    c.apply(layer({ a: { b: 1, c: 2, deep: { x: 1, y: 2 } }, top: 't' }, 'L1'));
    c.apply(layer({ a: { c: 3, d: 4, deep: { y: 20 } } }, 'L2'));
    assert.deepEqual(c.values, { a: { b: 1, c: 3, deep: { x: 1, y: 20 }, d: 4 }, top: 't' });
    assert.deepEqual(originsOf(c), { 'a.b': 'L1', 'a.c': 'L2', 'a.deep.x': 'L1', 'a.deep.y': 'L2', 'a.d': 'L2', top: 'L1' });
  });

  test('lists are replaced whole, not merged', () => {
    const c = new Config();
    c.apply(layer({ frames: ['f1', 'f2', 'f3'] }, 'L1'));
    c.apply(layer({ frames: ['g1'] }, 'L2'));
    assert.deepEqual(c.values, { frames: ['g1'] });
    assert.deepEqual(originsOf(c), { frames: 'L2' });
  });

  test('scalars are replaced', () => {
    const c = new Config();
    c.apply(layer({ t: 3.5 }, 'L1'));
    c.apply(layer({ t: 'high' }, 'L2'));
    c.apply(layer({ t: null }, 'L3'));
    assert.deepEqual(c.values, { t: null });
    assert.deepEqual(originsOf(c), { t: 'L3' });
  });

  test('a map replaced by a scalar drops the origins of its whole subtree', () => {
    const c = new Config();
    c.apply(layer({ fit: { order: 3, opts: { tol: 1 } }, fitx: 1 }, 'L1'));
    c.apply(layer({ fit: 'none' }, 'L2'));
    assert.deepEqual(c.values, { fit: 'none', fitx: 1 });
    assert.deepEqual([...c.origins.entries()].sort(), [
      ['fit', 'L2'],
      ['fitx', 'L1'],
    ]);
  });

  test('a map replaced by a list drops the origins of its subtree', () => {
    const c = new Config();
    c.apply(layer({ a: { x: 1 } }, 'L1'));
    c.apply(layer({ a: [1, 2] }, 'L2'));
    assert.deepEqual(c.values, { a: [1, 2] });
    assert.deepEqual([...c.origins.keys()], ['a']);
    assert.equal(c.origins.get('a'), 'L2');
  });

  test('a scalar replaced by a map takes the new subtree with its origins', () => {
    const c = new Config();
    c.apply(layer({ a: 1 }, 'L1'));
    c.apply(layer({ a: { x: { y: 1 }, z: 2 } }, 'L2'));
    assert.deepEqual(c.values, { a: { x: { y: 1 }, z: 2 } });
    assert.deepEqual([...c.origins.entries()].sort(), [
      ['a.x.y', 'L2'],
      ['a.z', 'L2'],
    ]);
  });

  test('a prefix-sharing sibling keeps its origin', () => {
    const c = new Config();
    c.apply(layer({ a: { x: 1 }, ab: 2 }, 'L1'));
    c.apply(layer({ a: 0 }, 'L2'));
    assert.equal(c.origins.get('ab'), 'L1');
    assert.equal(c.origins.get('a'), 'L2');
    assert.equal(c.origins.has('a.x'), false);
  });

  test('the values are copied: later changes to a layer do not leak in', () => {
    const values: ConfigMap = { list: [1, 2], m: { k: [3] } };
    const c = new Config();
    c.apply(layer(values, 'L1'));
    (values.list as number[]).push(99);
    ((values.m as ConfigMap).k as number[]).push(99);
    assert.deepEqual(c.values, { list: [1, 2], m: { k: [3] } });
  });

  test('merging into an existing map does not alias a later layer', () => {
    const c = new Config();
    const l2: ConfigMap = { a: { x: 1 } };
    c.apply(layer({ b: 1 }, 'L1'));
    c.apply(layer(l2, 'L2'));
    (l2.a as ConfigMap).x = 2;
    assert.deepEqual(c.values, { b: 1, a: { x: 1 } });
  });

  test('an empty map merged over a map changes nothing', () => {
    const c = new Config();
    c.apply(layer({ a: { x: 1 } }, 'L1'));
    c.apply(layer({ a: {} }, 'L2'));
    assert.deepEqual(c.values, { a: { x: 1 } });
    assert.deepEqual(originsOf(c), { 'a.x': 'L1' });
  });

  test('a layer whose values have no origins leaves "?" in leaves()', () => {
    const c = new Config();
    c.apply({ values: { a: 1 }, origins: new Map() });
    assert.deepEqual(c.leaves(), [{ path: 'a', value: 1, origin: '?' }]);
  });
});

describe('Config.get', () => {
  const c = new Config();
  c.apply(layer({ threshold: 3.5, fit: { order: 3, opts: { tol: 0.1 } }, frames: ['f1', 'f2'], nothing: null, no: false }, 'L'));

  test('finds values by path', () => {
    assert.equal(c.get(['threshold']), 3.5);
    assert.equal(c.get(['fit', 'order']), 3);
    assert.equal(c.get(['fit', 'opts', 'tol']), 0.1);
    assert.deepEqual(c.get(['fit', 'opts']), { tol: 0.1 });
    assert.deepEqual(c.get(['frames']), ['f1', 'f2']);
    assert.equal(c.get(['nothing']), null);
    assert.equal(c.get(['no']), false);
    assert.deepEqual(c.get([]), c.values);
  });

  test('missing paths are undefined', () => {
    assert.equal(c.get(['missing']), undefined);
    assert.equal(c.get(['fit', 'missing']), undefined);
    assert.equal(c.get(['threshold', 'x']), undefined);
    assert.equal(c.get(['frames', '0']), undefined);
    assert.equal(c.get(['nothing', 'x']), undefined);
  });

  test('inherited object properties are not config keys', () => {
    assert.equal(c.get(['toString']), undefined);
    assert.equal(c.get(['constructor']), undefined);
    assert.equal(c.get(['fit', 'hasOwnProperty']), undefined);
  });
});

describe('Config.leaves', () => {
  test('lists every leaf in insertion order, empty maps included', () => {
    const c = new Config();
    c.apply(layer({ b: 1, a: { y: [1], x: {} } }, 'L1'));
    c.apply(layer({ c: 'z', a: { w: true } }, 'L2'));
    assert.deepEqual(c.leaves(), [
      { path: 'b', value: 1, origin: 'L1' },
      { path: 'a.y', value: [1], origin: 'L1' },
      { path: 'a.x', value: {}, origin: 'L1' },
      { path: 'a.w', value: true, origin: 'L2' },
      { path: 'c', value: 'z', origin: 'L2' },
    ]);
  });

  test('an empty config has no leaves', () => {
    assert.deepEqual(new Config().leaves(), []);
  });
});

describe('configWords', () => {
  test('scalars give one word', () => {
    assert.deepEqual(configWords(3.5), ['3.5']);
    assert.deepEqual(configWords('a b'), ['a b']);
    assert.deepEqual(configWords(true), ['true']);
    assert.deepEqual(configWords(null), ['null']);
    assert.deepEqual(configWords(0), ['0']);
  });

  test('lists give one word per item; nested values as JSON', () => {
    assert.deepEqual(configWords(['f1', 2, false]), ['f1', '2', 'false']);
    assert.deepEqual(configWords([{ a: 1 }, [1, 2], null]), ['{"a":1}', '[1,2]', 'null']);
    assert.deepEqual(configWords([]), []);
  });

  test('a map is one JSON word', () => {
    assert.deepEqual(configWords({ a: 1, b: [2] }), ['{"a":1,"b":[2]}']);
  });
});

describe('isConfigMap', () => {
  test('only plain maps', () => {
    assert.equal(isConfigMap({}), true);
    assert.equal(isConfigMap({ a: 1 }), true);
    assert.equal(isConfigMap([]), false);
    assert.equal(isConfigMap(null), false);
    assert.equal(isConfigMap('x'), false);
    assert.equal(isConfigMap(undefined), false);
  });
});
