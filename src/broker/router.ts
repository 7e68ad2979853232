// The registry of served APIs: each handler registers with its codec and the version range it serves, and
// both request routing and the ApiVersions answer are derived from this one table (kfake's regKey idea).

import { AnyApiDef, ApiDef } from '../protocol/schema';
import type { HandlerContext } from './handlerContext';

/** Returned by a handler that must not answer (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no response');
export type HandlerResult<Res> = Res | typeof NO_RESPONSE;
/** A handler receives the decoded request and returns the response to encode. */
export type Handler<Req, ResIn> = (req: Req, ctx: HandlerContext) => HandlerResult<ResIn> | Promise<HandlerResult<ResIn>>;

export interface Route {
  def: AnyApiDef;
  minVersion: number;
  maxVersion: number;
  handle: Handler<any, any>;
}

export class Router {
  private readonly routes = new Map<number, Route>();

  register<Req, Res, ReqIn, ResIn>(def: ApiDef<Req, Res, ReqIn, ResIn>, handle: Handler<Req, ResIn>, range?: { min?: number; max?: number }): this {
    if (this.routes.has(def.key)) throw new Error(`API ${def.name} registered twice`);
    const minVersion = range?.min ?? def.minVersion;
    const maxVersion = range?.max ?? def.maxVersion;
    if (minVersion < def.minVersion || maxVersion > def.maxVersion) throw new Error(`${def.name}: served range outside codec range`);
    this.routes.set(def.key, { def, minVersion, maxVersion, handle: handle as Handler<any, any> });
    return this;
  }

  get(apiKey: number): Route | undefined {
    return this.routes.get(apiKey);
  }

  /** The ApiVersions table, sorted by key. */
  versions(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
    return [...this.routes.values()]
      .map((r) => ({ apiKey: r.def.key, minVersion: r.minVersion, maxVersion: r.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
