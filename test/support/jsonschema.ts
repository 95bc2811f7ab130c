// A small JSON Schema validator for the subset of draft-07 that
// schema/rulefile.schema.json uses. A keyword outside that subset is an
// error, so the schema cannot come to rely on one this validator ignores.

export type Schema = { [keyword: string]: unknown } | boolean;

/** Keywords that only document the schema. */
const NOTES = new Set(['$schema', '$id', 'title', 'description', 'markdownDescription', 'definitions', 'default', 'examples']);
const CHECKED = new Set(['type', 'properties', 'additionalProperties', 'required', 'items', 'anyOf', '$ref', 'propertyNames', 'pattern', 'minimum', 'enum']);

/** Every keyword the schema uses that this validator does not know (empty when it knows them all). */
export function unknownKeywords(schema: Schema, at = '#'): string[] {
  if (typeof schema === 'boolean') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(schema)) {
    if (!NOTES.has(k) && !CHECKED.has(k)) out.push(`${at}/${k}`);
    const sub = (s: unknown, where: string) => out.push(...unknownKeywords(s as Schema, where));
    if (k === 'properties' || k === 'definitions') for (const [name, s] of Object.entries(v as object)) sub(s, `${at}/${k}/${name}`);
    if (k === 'additionalProperties' || k === 'items' || k === 'propertyNames') sub(v, `${at}/${k}`);
    if (k === 'anyOf') (v as Schema[]).forEach((s, i) => sub(s, `${at}/anyOf/${i}`));
  }
  return out;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function hasType(v: unknown, t: string): boolean {
  if (t === 'integer') return typeof v === 'number' && Number.isInteger(v);
  return typeOf(v) === t;
}

/**
 * The ways `value` breaks `schema`, each as `PATH: what is wrong` (empty
 * when it is valid). `root` is the whole schema, for `$ref`s.
 */
export function validate(value: unknown, schema: Schema, root: Schema = schema, path = ''): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path || '/'}: nothing is allowed here`];
  const problems: string[] = [];
  const s = schema;
  const here = path || '/';
  if (typeof s.$ref === 'string') {
    const m = /^#\/definitions\/(.+)$/.exec(s.$ref);
    const target = m && typeof root === 'object' ? (root.definitions as Record<string, Schema> | undefined)?.[m[1]!] : undefined;
    if (target === undefined) throw new Error(`unresolvable $ref ${s.$ref}`);
    problems.push(...validate(value, target, root, path));
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => hasType(value, t))) return [...problems, `${here}: expected ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).some((e) => e === value)) problems.push(`${here}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  if (typeof s.pattern === 'string' && typeof value === 'string' && !new RegExp(s.pattern, 'u').test(value)) {
    problems.push(`${here}: '${value}' does not match ${s.pattern}`);
  }
  if (typeof s.minimum === 'number' && typeof value === 'number' && value < s.minimum) problems.push(`${here}: ${value} is less than ${s.minimum}`);
  if (s.anyOf !== undefined) {
    const all = (s.anyOf as Schema[]).map((sub) => validate(value, sub, root, path));
    if (!all.some((p) => p.length === 0)) {
      // The alternative that came closest says best what is wrong.
      const best = all.reduce((a, b) => (b.length < a.length ? b : a));
      problems.push(...(best.length > 0 ? best : [`${here}: matches none of the alternatives`]));
    }
  }
  if (typeOf(value) === 'array' && s.items !== undefined) {
    (value as unknown[]).forEach((item, i) => problems.push(...validate(item, s.items as Schema, root, `${path}/${i}`)));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in obj)) problems.push(`${here}: '${r}' is required`);
    for (const [k, v] of Object.entries(obj)) {
      if (s.propertyNames !== undefined) problems.push(...validate(k, s.propertyNames as Schema, root, `${path}/${k} (name)`));
      if (k in props) problems.push(...validate(v, props[k]!, root, `${path}/${k}`));
      else if (s.additionalProperties === false) problems.push(`${here}: '${k}' is not allowed`);
      else if (s.additionalProperties !== undefined) problems.push(...validate(v, s.additionalProperties as Schema, root, `${path}/${k}`));
    }
  }
  return problems;
}
