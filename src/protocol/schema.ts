// A small schema language for Kafka messages. Each API file declares its request and response once, with the
// versions each field exists in, and gets both decoding and encoding from the same declaration, so the broker
// and our own admin client share one codec. Flexible versions (KIP-482) switch strings, bytes and arrays to
// their compact forms and add a tagged-field section to every struct.

import { ProtocolError, Reader } from './primitives/reader';
import { Writer } from './primitives/writer';

export interface Ctx {
  version: number;
  flexible: boolean;
}

/**
 * A wire type. T is what decoding produces (every field present); I is what encoding accepts, where fields
 * that exist only in some versions (v(), tagged()) may be left out and take their defaults.
 */
export interface Type<T, I = T> {
  read(r: Reader, ctx: Ctx): T;
  write(w: Writer, v: I, ctx: Ctx): void;
  /** The value a field of this type has in versions where it is absent. */
  readonly zero: T;
}

function prim<T>(zero: T, read: (r: Reader) => T, write: (w: Writer, v: T) => void): Type<T> {
  return { zero, read: (r) => read(r), write: (w, v) => write(w, v) };
}

export const int8 = prim(0, (r) => r.int8(), (w, v) => w.int8(v));
export const int16 = prim(0, (r) => r.int16(), (w, v) => w.int16(v));
export const uint16 = prim(0, (r) => r.uint16(), (w, v) => w.uint16(v));
export const int32 = prim(0, (r) => r.int32(), (w, v) => w.int32(v));
export const uint32 = prim(0, (r) => r.uint32(), (w, v) => w.uint32(v));
export const int64 = prim(0, (r) => r.int64(), (w, v) => w.int64(v));
export const float64 = prim(0, (r) => r.float64(), (w, v) => w.float64(v));
export const bool = prim(false, (r) => r.bool(), (w, v) => w.bool(v));
export const uuid = prim('AAAAAAAAAAAAAAAAAAAAAA', (r) => r.uuid(), (w, v) => w.uuid(v));
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Reads a length prefix: int16/int32 classic, or uvarint(len+1) compact. Returns -1 for null. */
function readLength(r: Reader, ctx: Ctx, wide: boolean): number {
  if (ctx.flexible) return r.uvarint() - 1;
  return wide ? r.int32() : r.int16();
}

function writeLength(w: Writer, len: number, ctx: Ctx, wide: boolean): void {
  if (ctx.flexible) w.uvarint(len + 1);
  else if (wide) w.int32(len);
  else w.int16(len);
}

export const nullableString: Type<string | null> = {
  zero: null,
  read(r, ctx) {
    return r.stringOfLength(readLength(r, ctx, false));
  },
  write(w, v, ctx) {
    if (v === null) return writeLength(w, -1, ctx, false);
    writeLength(w, Buffer.byteLength(v), ctx, false);
    w.utf8(v);
  },
};

export const string: Type<string> = {
  zero: '',
  read(r, ctx) {
    const s = nullableString.read(r, ctx);
    if (s === null) throw new ProtocolError('null in a non-nullable string');
    return s;
  },
  write(w, v, ctx) {
    nullableString.write(w, v ?? '', ctx);
  },
};

export const nullableBytes: Type<Buffer | null> = {
  zero: null,
  read(r, ctx) {
    const len = readLength(r, ctx, true);
    if (len === -1) return null;
    if (len < -1) throw new ProtocolError(`negative bytes length ${len}`);
    return r.raw(len, 'bytes');
  },
  write(w, v, ctx) {
    if (v === null) return writeLength(w, -1, ctx, true);
    writeLength(w, v.length, ctx, true);
    w.raw(v);
  },
};

export const bytes: Type<Buffer> = {
  zero: Buffer.alloc(0),
  read(r, ctx) {
    return nullableBytes.read(r, ctx) ?? Buffer.alloc(0);
  },
  write(w, v, ctx) {
    nullableBytes.write(w, v ?? Buffer.alloc(0), ctx);
  },
};

/** The RECORDS type: nullable bytes holding record batches, served as-is. */
export const records = nullableBytes;

export function nullableArray<T, I>(item: Type<T, I>): Type<T[] | null, I[] | null> {
  return describeArray(item, {
    zero: null,
    read(r, ctx) {
      const len = readLength(r, ctx, true);
      if (len === -1) return null;
      if (len < -1) throw new ProtocolError(`negative array length ${len}`);
      // Every element takes at least one byte, so a count beyond the remaining bytes is a lie.
      if (len > r.remaining) throw new ProtocolError(`array length ${len} exceeds remaining ${r.remaining} bytes`);
      const out = new Array<T>(len);
      for (let i = 0; i < len; i++) out[i] = item.read(r, ctx);
      return out;
    },
    write(w, v, ctx) {
      if (v === null || v === undefined) return writeLength(w, -1, ctx, true);
      writeLength(w, v.length, ctx, true);
      for (const e of v) item.write(w, e, ctx);
    },
  });
}

export function array<T, I>(item: Type<T, I>): Type<T[], I[]> {
  const inner = nullableArray(item);
  return describeArray(item, {
    zero: [],
    read(r, ctx) {
      return inner.read(r, ctx) ?? [];
    },
    write(w, v, ctx) {
      inner.write(w, v ?? [], ctx);
    },
  });
}

/** A plain int32-count array that stays classic even in flexible versions (rare, used by old fixed layouts). */
export function classicArray<T, I>(item: Type<T, I>): Type<T[], I[]> {
  return array(item);
}

// ---- introspection (tests and tooling walk a schema without knowing it) ----------------------------------

/** A struct field as compiled: inclusive version range, tag (flexible versions only) and absent-value default. */
export interface FieldInfo {
  readonly name: string;
  readonly type: Type<unknown, any>;
  readonly min: number;
  readonly max: number;
  readonly tag: number | undefined;
  readonly dflt: unknown;
}

const STRUCT_FIELDS = new WeakMap<object, readonly FieldInfo[]>();
const ARRAY_ITEM = new WeakMap<object, Type<unknown, any>>();

function describeArray<A, AI>(item: Type<unknown, any>, type: Type<A, AI>): Type<A, AI> {
  ARRAY_ITEM.set(type, item);
  return type;
}

/** The fields of a type made by struct(), in declaration order; undefined for any other type. */
export function structFields(type: Type<unknown, any>): readonly FieldInfo[] | undefined {
  return STRUCT_FIELDS.get(type);
}

/** The element type of a type made by array() or nullableArray(); undefined for any other type. */
export function arrayItem(type: Type<unknown, any>): Type<unknown, any> | undefined {
  return ARRAY_ITEM.get(type);
}

// ---- structs ---------------------------------------------------------------------------------------------

export interface FieldSpec<T, I = T> {
  type: Type<T, I>;
  /** Inclusive version range, e.g. "3+" or "0-4". Absent = all versions. */
  versions?: string;
  /** Tagged field number (flexible versions only). */
  tag?: number;
  /** Value used when the field is absent from a version (defaults to the type's zero). */
  default?: T;
}

type FieldLike = Type<any, any> | FieldSpec<any, any>;
type ValueOf<F> = F extends FieldSpec<infer T, any> ? T : F extends Type<infer T, any> ? T : never;
type InputOf<F> = F extends FieldSpec<any, infer I> ? I : F extends Type<any, infer I> ? I : never;
type VersionedKeys<F> = { [K in keyof F]: F[K] extends FieldSpec<any, any> ? K : never }[keyof F];
/** A decoded struct: every field present. */
export type StructValue<F extends Record<string, FieldLike>> = { [K in keyof F]: ValueOf<F[K]> };
/** A struct to encode: fields declared with v() or tagged() may be omitted (their default is written). */
export type StructInput<F extends Record<string, FieldLike>> = { [K in Exclude<keyof F, VersionedKeys<F>>]: InputOf<F[K]> } & {
  [K in VersionedKeys<F>]?: InputOf<F[K]>;
};

/** A field present only in some versions: v(int32, "3+"). */
export function v<T, I>(type: Type<T, I>, versions: string, defaultValue?: T): FieldSpec<T, I> {
  return { type, versions, default: defaultValue };
}

/** A tagged field: tagged(int32, 0, "12+", -1). */
export function tagged<T, I>(type: Type<T, I>, tag: number, versions = '0+', defaultValue?: T): FieldSpec<T, I> {
  return { type, tag, versions, default: defaultValue };
}

interface CompiledField {
  name: string;
  type: Type<unknown, any>;
  min: number;
  max: number;
  tag: number | undefined;
  dflt: unknown;
}

function parseVersions(spec: string | undefined): [number, number] {
  if (spec === undefined) return [0, Number.MAX_SAFE_INTEGER];
  const plus = /^(\d+)\+$/.exec(spec);
  if (plus) return [Number(plus[1]), Number.MAX_SAFE_INTEGER];
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range) return [Number(range[1]), Number(range[2])];
  const one = /^(\d+)$/.exec(spec);
  if (one) return [Number(one[1]), Number(one[1])];
  throw new Error(`bad version spec ${spec}`);
}

/** A fresh copy of a default value, so that a decoded message never shares arrays or objects with the schema. */
function cloneZero(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneZero);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, cloneZero(e)]));
  }
  return v;
}

export function struct<F extends Record<string, FieldLike>>(fields: F): Type<StructValue<F>, StructInput<F>> {
  const compiled: CompiledField[] = Object.entries(fields).map(([name, f]) => {
    const spec: FieldSpec<unknown, any> = 'type' in f ? (f as FieldSpec<unknown, any>) : { type: f as Type<unknown, any> };
    const [min, max] = parseVersions(spec.versions);
    return { name, type: spec.type, min, max, tag: spec.tag, dflt: spec.default ?? spec.type.zero };
  });
  const regular = compiled.filter((f) => f.tag === undefined);
  const taggedFields = compiled.filter((f) => f.tag !== undefined).sort((a, b) => a.tag! - b.tag!);

  const zero = Object.fromEntries(compiled.map((f) => [f.name, cloneZero(f.dflt)])) as StructValue<F>;

  const type: Type<StructValue<F>, StructInput<F>> = {
    zero,
    read(r, ctx) {
      const out: Record<string, unknown> = {};
      for (const f of regular) {
        out[f.name] = ctx.version >= f.min && ctx.version <= f.max ? f.type.read(r, ctx) : cloneZero(f.dflt);
      }
      for (const f of taggedFields) out[f.name] = cloneZero(f.dflt);
      if (ctx.flexible) {
        const count = r.uvarint();
        for (let i = 0; i < count; i++) {
          const tag = r.uvarint();
          const size = r.uvarint();
          const field = taggedFields.find((t) => t.tag === tag && ctx.version >= t.min && ctx.version <= t.max);
          if (!field) {
            r.skip(size); // unknown tags are skipped, as Kafka does
            continue;
          }
          const sub = new Reader(r.buf, r.offset, r.offset + size);
          r.skip(size);
          out[field.name] = field.type.read(sub, ctx);
        }
      }
      return out as StructValue<F>;
    },
    write(w, value, ctx) {
      const obj = value as Record<string, unknown>;
      for (const f of regular) {
        if (ctx.version < f.min || ctx.version > f.max) continue;
        const fv = obj[f.name];
        f.type.write(w, fv === undefined ? f.dflt : fv, ctx);
      }
      if (!ctx.flexible) return;
      const present: Array<[number, Buffer]> = [];
      for (const f of taggedFields) {
        if (ctx.version < f.min || ctx.version > f.max) continue;
        const fv = obj[f.name];
        if (fv === undefined || isDefault(fv, f.dflt)) continue;
        const sub = new Writer(32);
        f.type.write(sub, fv, ctx);
        present.push([f.tag!, sub.toBuffer()]);
      }
      w.uvarint(present.length);
      for (const [tag, body] of present) {
        w.uvarint(tag);
        w.uvarint(body.length);
        w.raw(body);
      }
    },
  };
  STRUCT_FIELDS.set(type, compiled);
  return type;
}

function isDefault(v: unknown, dflt: unknown): boolean {
  if (v === dflt || v === null) return true;
  if (Array.isArray(v) && Array.isArray(dflt)) return v.length === 0 && dflt.length === 0;
  if (typeof v === 'object' && typeof dflt === 'object') return JSON.stringify(v) === JSON.stringify(dflt);
  return false;
}

/** An opaque tagged section with no known fields (used where only the empty tag buffer must be consumed/written). */
export const emptyStruct = struct({});

// ---- API descriptors -------------------------------------------------------------------------------------

export interface ApiDef<Req, Res, ReqIn = Req, ResIn = Res> {
  key: number;
  name: string;
  /** Versions this project can encode and decode. */
  minVersion: number;
  maxVersion: number;
  /** First flexible version, or Infinity if none. */
  flexibleFrom: number;
  request: Type<Req, ReqIn>;
  response: Type<Res, ResIn>;
}

export type AnyApiDef = ApiDef<any, any, any, any>;

export function api<Req, Res, ReqIn, ResIn>(def: ApiDef<Req, Res, ReqIn, ResIn>): ApiDef<Req, Res, ReqIn, ResIn> {
  return def;
}

/** A decoded request (what a handler receives). */
export type RequestOf<A> = A extends ApiDef<infer Req, any, any, any> ? Req : never;
/** A decoded response (what a client receives). */
export type ResponseOf<A> = A extends ApiDef<any, infer Res, any, any> ? Res : never;
/** A request to encode (what a client sends; versioned fields optional). */
export type RequestInputOf<A> = A extends ApiDef<any, any, infer ReqIn, any> ? ReqIn : never;
/** A response to encode (what a handler returns; versioned fields optional). */
export type ResponseInputOf<A> = A extends ApiDef<any, any, any, infer ResIn> ? ResIn : never;

export function ctxFor(def: AnyApiDef, version: number): Ctx {
  return { version, flexible: version >= def.flexibleFrom };
}
