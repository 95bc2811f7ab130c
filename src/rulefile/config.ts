// The effective configuration: layers merged in precedence order, each leaf
// remembering where its value came from (for `rules config`).

import { isMap, isScalar, isSeq } from 'yaml';
import type { Node } from 'yaml';
import type { SourceFile } from './source.js';

export type ConfigValue = null | boolean | number | string | ConfigValue[] | ConfigMap;
export interface ConfigMap {
  [key: string]: ConfigValue;
}

/** A layer of configuration: values plus the origin of each leaf (keyed by dotted path). */
export interface ConfigLayer {
  values: ConfigMap;
  origins: Map<string, string>;
}

export function isConfigMap(v: ConfigValue | undefined): v is ConfigMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Converts a YAML node to a config layer; origins are `FILE:LINE`. */
export function layerFromNode(src: SourceFile, node: Node, origins = new Map<string, string>(), prefix = ''): ConfigLayer {
  const values = nodeValue(src, node, prefix, origins);
  return { values: isConfigMap(values) ? values : {}, origins };
}

function nodeValue(src: SourceFile, raw: Node | null, prefix: string, origins: Map<string, string>): ConfigValue {
  const node = src.resolve(raw);
  const where = () => {
    const l = src.loc(node);
    return `${l.file}:${l.line}`;
  };
  if (isMap(node)) {
    const out: ConfigMap = {};
    const entries = src.entries(node);
    if (entries.length === 0 && prefix) origins.set(prefix, where());
    for (const e of entries) setKey(out, e.key, nodeValue(src, e.value, prefix ? `${prefix}.${e.key}` : e.key, origins));
    return out;
  }
  if (prefix) origins.set(prefix, where());
  if (isSeq(node)) return node.items.map((item) => nodeValue(src, item as Node, '', new Map()));
  if (isScalar(node)) return node.value as ConfigValue;
  return null;
}

/** A layer with one origin for every leaf, e.g. a --configfile or the --config flags. */
export function layerFromValues(values: ConfigMap, origin: string): ConfigLayer {
  const origins = new Map<string, string>();
  const walk = (v: ConfigValue, prefix: string) => {
    if (isConfigMap(v) && (Object.keys(v).length > 0 || !prefix)) {
      for (const [k, child] of orderedEntries(v)) walk(child, prefix ? `${prefix}.${k}` : k);
    } else if (prefix) {
      origins.set(prefix, origin);
    }
  };
  walk(values, '');
  return { values, origins };
}

export class Config {
  readonly values: ConfigMap = {};
  readonly origins = new Map<string, string>();

  /** Merges `layer` over what is here: maps merge deeply, anything else is replaced whole. */
  apply(layer: ConfigLayer): void {
    this.mergeInto(this.values, layer.values, '', layer.origins);
  }

  private mergeInto(target: ConfigMap, source: ConfigMap, prefix: string, origins: Map<string, string>): void {
    for (const [key, value] of orderedEntries(source)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const existing = Object.prototype.hasOwnProperty.call(target, key) ? target[key] : undefined;
      if (isConfigMap(existing) && isConfigMap(value)) {
        this.mergeInto(existing, value, path, origins);
        continue;
      }
      // Origins are looked up by the paths under the values themselves, so a layer of N keys costs N, not N².
      if (existing !== undefined) for (const p of subpaths(existing, path)) this.origins.delete(p);
      setKey(target, key, clone(value));
      for (const p of subpaths(value, path)) {
        const o = origins.get(p);
        if (o !== undefined) this.origins.set(p, o);
      }
    }
  }

  /** The value at a dotted path, or undefined when any part is missing. */
  get(path: readonly string[]): ConfigValue | undefined {
    let v: ConfigValue | undefined = this.values;
    for (const part of path) {
      if (!isConfigMap(v) || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
      v = v[part];
    }
    return v;
  }

  /** Every leaf (non-map value, or empty map) with its origin, in insertion order. */
  leaves(): { path: string; value: ConfigValue; origin: string }[] {
    const out: { path: string; value: ConfigValue; origin: string }[] = [];
    const walk = (v: ConfigValue, prefix: string) => {
      if (isConfigMap(v) && (Object.keys(v).length > 0 || !prefix)) {
        for (const [k, child] of orderedEntries(v)) walk(child, prefix ? `${prefix}.${k}` : k);
      } else {
        out.push({ path: prefix, value: v, origin: this.origins.get(prefix) ?? '?' });
      }
    };
    walk(this.values, '');
    return out;
  }
}

/** Sets a dotted path in a fresh map, e.g. for `--config a.b=VALUE`. */
export function nestedValue(path: string, value: ConfigValue): ConfigMap {
  const parts = path.split('.');
  const root: ConfigMap = {};
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const next: ConfigMap = {};
    setKey(cur, parts[i]!, next);
    cur = next;
  }
  setKey(cur, parts[parts.length - 1]!, value);
  return root;
}

/** `path` and the dotted path of everything inside `v` under it. */
function* subpaths(v: ConfigValue, path: string): Generator<string> {
  yield path;
  if (isConfigMap(v)) for (const [k, child] of orderedEntries(v)) yield* subpaths(child, `${path}.${k}`);
}

/**
 * The order keys were set in, per map made by `setKey`: a JavaScript object
 * lists integer-like keys ("2", "10") first and in numeric order, but a
 * config map's keys are expanded in file order (SPEC §7).
 */
const keyOrder = new WeakMap<object, string[]>();

/** Sets a key of a plain object as its own property, even one named `__proto__`; a new key goes last in `orderedKeys`. */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) {
    const order = keyOrder.get(obj);
    if (order === undefined) keyOrder.set(obj, [key]);
    else order.push(key);
  }
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A map's keys in the order they were set (file order for a map read from YAML; after a merge, the earlier layer's keys, then new ones). */
export function orderedKeys(obj: Record<string, unknown>): readonly string[] {
  return keyOrder.get(obj) ?? Object.keys(obj);
}

/** A map's entries in `orderedKeys` order. */
function orderedEntries(m: ConfigMap): [string, ConfigValue][] {
  return orderedKeys(m).map((k) => [k, m[k]!]);
}

function clone(v: ConfigValue): ConfigValue {
  if (Array.isArray(v)) return v.map(clone);
  if (isConfigMap(v)) {
    const out: ConfigMap = {};
    for (const [k, c] of orderedEntries(v)) setKey(out, k, clone(c));
    return out;
  }
  return v;
}

/** A config value as the words it stands for in a template (lists give one word per item). */
export function configWords(v: ConfigValue): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)));
  if (isConfigMap(v)) return [JSON.stringify(v)];
  return [String(v)];
}
