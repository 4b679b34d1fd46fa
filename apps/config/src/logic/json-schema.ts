/**
 * A validator for the JSON Schema subset Fleetcore supports for config files (no ajv is
 * installed). Supported keywords:
 *   type (string or list; integer included), enum, const,
 *   properties, required, additionalProperties (boolean or schema), minProperties, maxProperties,
 *   items (one schema), minItems, maxItems, uniqueItems,
 *   minLength, maxLength, pattern,
 *   minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers), multipleOf,
 *   allOf, anyOf, oneOf, not,
 * and the annotations $schema, $id, title, description, default, examples, $comment.
 * A schema using any other keyword ($ref, patternProperties, if/then/else, format...) is refused
 * when registered, so nobody believes a rule is enforced when it is not.
 */
export type JsonSchema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default', 'examples', '$comment']);
const SUBSCHEMA = new Set(['additionalProperties', 'items', 'not']);
const SUBSCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);
const NUMBERS = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']);
const COUNTS = new Set(['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties']);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const OTHER = new Set(['type', 'enum', 'const', 'properties', 'required', 'uniqueItems', 'pattern']);

/** Problems with the schema itself (unsupported keyword, wrong keyword type), with JSON pointers. */
export function schemaProblems(schema: unknown, at = ''): string[] {
  if (typeof schema === 'boolean') return [];
  if (!isObject(schema)) return [`${at || '/'}: a schema must be an object or a boolean`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(schema)) {
    const here = `${at}/${k}`;
    if (ANNOTATIONS.has(k)) continue;
    if (SUBSCHEMA.has(k)) {
      if (k === 'additionalProperties' && typeof v === 'boolean') continue;
      out.push(...schemaProblems(v, here));
    } else if (SUBSCHEMA_LISTS.has(k)) {
      if (!Array.isArray(v) || v.length === 0) out.push(`${here}: must be a non-empty array of schemas`);
      else v.forEach((s, i) => out.push(...schemaProblems(s, `${here}/${i}`)));
    } else if (NUMBERS.has(k)) {
      if (typeof v !== 'number' || (k === 'multipleOf' && v <= 0)) out.push(`${here}: must be a number${k === 'multipleOf' ? ' > 0' : ''}`);
    } else if (COUNTS.has(k)) {
      if (!Number.isInteger(v) || (v as number) < 0) out.push(`${here}: must be a non-negative integer`);
    } else if (k === 'type') {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0 || list.some((t) => typeof t !== 'string' || !TYPES.has(t))) out.push(`${here}: unknown type`);
    } else if (k === 'enum') {
      if (!Array.isArray(v)) out.push(`${here}: must be an array`);
    } else if (k === 'properties') {
      if (!isObject(v)) out.push(`${here}: must be an object`);
      else for (const [p, s] of Object.entries(v)) out.push(...schemaProblems(s, `${here}/${p}`));
    } else if (k === 'required') {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) out.push(`${here}: must be an array of strings`);
    } else if (k === 'uniqueItems') {
      if (typeof v !== 'boolean') out.push(`${here}: must be a boolean`);
    } else if (k === 'pattern') {
      try {
        new RegExp(String(v), 'u');
      } catch {
        out.push(`${here}: not a valid regular expression`);
      }
    } else if (!OTHER.has(k)) out.push(`${here}: keyword "${k}" is not supported`);
  }
  return out;
}

/** Validation errors of `value` against `schema`, as `<json pointer>: <reason>`; empty when valid. */
export function validateJson(schema: unknown, value: unknown, at = ''): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at || '/'}: no value is allowed here`];
  if (!isObject(schema)) return [];
  const where = at || '/';
  const out: string[] = [];
  const s = schema;
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    if (!types.some((t) => hasType(value, t))) return [`${where}: expected ${types.join(' or ')}, found ${typeOf(value)}`];
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).some((e) => deepEqual(e, value))) out.push(`${where}: must be one of ${JSON.stringify(s.enum)}`);
  if ('const' in s && !deepEqual(s.const, value)) out.push(`${where}: must equal ${JSON.stringify(s.const)}`);
  if (typeof value === 'string') {
    const len = [...value].length;
    if (typeof s.minLength === 'number' && len < s.minLength) out.push(`${where}: shorter than ${s.minLength}`);
    if (typeof s.maxLength === 'number' && len > s.maxLength) out.push(`${where}: longer than ${s.maxLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) out.push(`${where}: does not match ${s.pattern}`);
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) out.push(`${where}: less than ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) out.push(`${where}: greater than ${s.maximum}`);
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) out.push(`${where}: must be > ${s.exclusiveMinimum}`);
    if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum) out.push(`${where}: must be < ${s.exclusiveMaximum}`);
    if (typeof s.multipleOf === 'number' && Math.abs(value / s.multipleOf - Math.round(value / s.multipleOf)) > 1e-9) out.push(`${where}: not a multiple of ${s.multipleOf}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) out.push(`${where}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) out.push(`${where}: more than ${s.maxItems} items`);
    if (s.uniqueItems === true && value.some((v, i) => value.findIndex((w) => deepEqual(v, w)) !== i)) out.push(`${where}: items are not unique`);
    if (s.items !== undefined) value.forEach((v, i) => out.push(...validateJson(s.items, v, `${at}/${i}`)));
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (typeof s.minProperties === 'number' && keys.length < s.minProperties) out.push(`${where}: fewer than ${s.minProperties} properties`);
    if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) out.push(`${where}: more than ${s.maxProperties} properties`);
    for (const r of (s.required as string[] | undefined) ?? []) if (!(r in value)) out.push(`${where}: missing required property "${r}"`);
    const props = (s.properties as Record<string, unknown> | undefined) ?? {};
    for (const k of keys) {
      const p = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (k in props) out.push(...validateJson(props[k], value[k], p));
      else if (s.additionalProperties === false) out.push(`${p}: property is not allowed`);
      else if (isObject(s.additionalProperties)) out.push(...validateJson(s.additionalProperties, value[k], p));
    }
  }
  for (const sub of (s.allOf as unknown[] | undefined) ?? []) out.push(...validateJson(sub, value, at));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => validateJson(sub, value, at).length === 0)) out.push(`${where}: matches none of anyOf`);
  if (Array.isArray(s.oneOf)) {
    const n = s.oneOf.filter((sub) => validateJson(sub, value, at).length === 0).length;
    if (n !== 1) out.push(`${where}: matches ${n} of oneOf (exactly 1 required)`);
  }
  if (s.not !== undefined && validateJson(s.not, value, at).length === 0) out.push(`${where}: must not match the "not" schema`);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasType(v: unknown, t: string): boolean {
  switch (t) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'null':
      return v === null;
    default:
      return typeof v === t;
  }
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
