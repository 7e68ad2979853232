// Authorization of one request, for the handlers: who is asking (the SASL user, else User:ANONYMOUS), from which
// host, and what the cluster's ACLs (in the metadata image) say. Without `authorizer.class.name` in the broker
// config every request is allowed, as the mini-cluster always did; with it, Kafka's StandardAuthorizer rules
// apply (see security/authorizer.ts), `super.users` and the cluster's own inter-broker user may do everything.

import type { BrokerConfig } from '../configs';
import type { HandlerContext } from '../handlerContext';
import {
  AclOperation,
  AclResourceType,
  ANONYMOUS_PRINCIPAL,
  authorize,
  authorizeAnyOfType,
  AuthorizerSettings,
  CLUSTER_RESOURCE_NAME,
  parseSuperUsers,
} from '../security/authorizer';
import { INTER_BROKER_USER } from '../security/listener';

export { AclOperation as Op, AclResourceType as ResourceType } from '../security/authorizer';

export function authorizerEnabled(config: BrokerConfig): boolean {
  return (config['authorizer.class.name'] ?? '').trim() !== '';
}

const settingsCache = new WeakMap<BrokerConfig, AuthorizerSettings>();

function settingsOf(config: BrokerConfig): AuthorizerSettings {
  let s = settingsCache.get(config);
  if (!s) {
    const superUsers = parseSuperUsers(config['super.users']);
    superUsers.add(`User:${INTER_BROKER_USER}`);
    s = { superUsers, allowEveryoneIfNoAclFound: config['allow.everyone.if.no.acl.found'] === 'true' };
    settingsCache.set(config, s);
  }
  return s;
}

export function principalOf(ctx: HandlerContext): string {
  const user = ctx.conn.sasl?.user;
  return user === undefined ? ANONYMOUS_PRINCIPAL : `User:${user}`;
}

function hostOf(ctx: HandlerContext): string {
  const address = ctx.conn.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** May this request do `operation` on the resource? Always true without an authorizer. */
export function may(ctx: HandlerContext, operation: AclOperation, resourceType: AclResourceType, resourceName: string): boolean {
  const { config, image } = ctx.broker;
  if (!authorizerEnabled(config)) return true;
  return authorize(image.acls ?? [], settingsOf(config), { principal: principalOf(ctx), host: hostOf(ctx), operation, resourceType, resourceName });
}

export function mayOnCluster(ctx: HandlerContext, operation: AclOperation): boolean {
  return may(ctx, operation, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/** May this request do `operation` on at least one resource of the type (Kafka's authorizeByResourceType)? */
export function mayOnSomeOfType(ctx: HandlerContext, operation: AclOperation, resourceType: AclResourceType): boolean {
  const { config, image } = ctx.broker;
  if (!authorizerEnabled(config)) return true;
  return authorizeAnyOfType(image.acls ?? [], settingsOf(config), { principal: principalOf(ctx), host: hostOf(ctx), operation, resourceType });
}
