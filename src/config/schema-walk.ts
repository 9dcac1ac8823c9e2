/**
 * Walks the zod config schema: leaf types (to coerce env strings), secret markers, and the flat list of
 * options with defaults and descriptions used to generate docs/configuration.md.
 */
import type { z } from 'zod';
import { RESTART_ONLY, SECRET } from './schema.js';

type AnySchema = z.ZodType;

interface Def {
  type: string;
  innerType?: AnySchema;
  shape?: Record<string, AnySchema>;
  defaultValue?: unknown;
  entries?: Record<string, string>;
  element?: AnySchema;
}

function defOf(schema: AnySchema): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function shapeOf(schema: AnySchema): Record<string, AnySchema> | undefined {
  const unwrapped = unwrap(schema);
  const shape = (unwrapped as unknown as { shape?: Record<string, AnySchema> }).shape;
  return defOf(unwrapped).type === 'object' ? shape : undefined;
}

/** Strips default/optional/nullable wrappers. */
export function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if ((def.type === 'default' || def.type === 'optional' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) {
      current = def.innerType;
    } else {
      return current;
    }
  }
}

function metaOf(schema: AnySchema): Record<string, unknown> {
  let current: AnySchema | undefined = schema;
  const merged: Record<string, unknown> = {};
  while (current) {
    const meta = (current as unknown as { meta: () => Record<string, unknown> | undefined }).meta();
    if (meta) for (const [key, value] of Object.entries(meta)) if (!(key in merged)) merged[key] = value;
    const def = defOf(current);
    current = def.innerType;
  }
  return merged;
}

function find(root: AnySchema, path: string): AnySchema | undefined {
  let node: AnySchema | undefined = root;
  for (const part of path.split('.')) {
    const shape: Record<string, AnySchema> | undefined = node ? shapeOf(node) : undefined;
    node = shape?.[part];
    if (!node) return undefined;
  }
  return node;
}

/** 'number' | 'boolean' | 'string' | 'enum' | 'array' | 'object' | undefined (unknown path). */
export function leafKind(root: AnySchema, path: string): string | undefined {
  const node = find(root, path);
  return node ? defOf(unwrap(node)).type : undefined;
}

export interface OptionDoc {
  path: string;
  type: string;
  defaultValue: unknown;
  description: string;
  secret: boolean;
  /** Kept until restart on SIGHUP (marked `[RESTART_ONLY]: true` on the option). */
  restartOnly: boolean;
}

function typeLabel(schema: AnySchema): string {
  const def = defOf(unwrap(schema));
  if (def.type === 'enum' && def.entries)
    return Object.values(def.entries)
      .map((value) => `\`${value}\``)
      .join(' \\| ');
  if (def.type === 'array' && def.element) return `list of ${typeLabel(def.element)}`;
  if (def.type === 'number') {
    // z.number().int() carries a `number_format` check (int/safeint); plain z.number() is a decimal.
    const checks = ((def as { checks?: { _zod?: { def?: { check?: string; format?: string } } }[] }).checks ?? []).map(
      (check) => check._zod?.def,
    );
    return checks.some((check) => check?.check === 'number_format' && /int/.test(check.format ?? '')) ? 'integer' : 'number';
  }
  return def.type;
}

/** Every leaf option in schema order. */
export function listOptions(root: AnySchema, prefix = ''): OptionDoc[] {
  const shape = shapeOf(root);
  if (!shape) return [];
  const options: OptionDoc[] = [];
  for (const [key, child] of Object.entries(shape)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (shapeOf(child) && defOf(unwrap(child)).type === 'object') {
      options.push(...listOptions(child, path));
      continue;
    }
    const meta = metaOf(child);
    const def = defOf(child);
    options.push({
      path,
      type: typeLabel(child),
      defaultValue: def.type === 'default' ? def.defaultValue : undefined,
      description: typeof meta.description === 'string' ? meta.description : '',
      secret: meta[SECRET] === true,
      restartOnly: meta[RESTART_ONLY] === true,
    });
  }
  return options;
}

export function secretPaths(root: AnySchema): string[] {
  return listOptions(root)
    .filter((option) => option.secret)
    .map((option) => option.path);
}

/** The options marked restart-only, as dotted paths. */
export function restartOnlyPaths(root: AnySchema): string[] {
  return listOptions(root)
    .filter((option) => option.restartOnly)
    .map((option) => option.path);
}
