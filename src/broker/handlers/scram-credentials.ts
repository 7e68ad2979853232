// DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554). Credentials live in the controller's
// metadata image, so every broker authenticates against the same set at once: a user added to a running cluster can
// log in on the next connection, a deleted one cannot. The client sends a salted password; the broker derives the
// StoredKey and ServerKey from it here and only those cross to the controller. As on Kafka: describing needs
// DESCRIBE on the cluster, altering ALTER.

import { AlterUserScramCredentials } from '../../protocol/apis/51-alter-user-scram-credentials';
import { DescribeUserScramCredentials } from '../../protocol/apis/50-describe-user-scram-credentials';
import { ErrorCode } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import {
  SCRAM_MAX_ITERATIONS,
  SCRAM_MECHANISM_CODES,
  SCRAM_MIN_ITERATIONS,
  scramCredentialFromSaltedPassword,
  ScramMechanismName,
  UserCredentials,
} from '../security/sasl';
import { mayOnCluster, Op } from './authz';

const MECHANISM_CODE: Record<ScramMechanismName, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };

export function handleDescribeUserScramCredentials(req: RequestOf<typeof DescribeUserScramCredentials>, ctx: HandlerContext): ResponseOf<typeof DescribeUserScramCredentials> {
  const answer = (errorCode: number, errorMessage: string | null, results: ResponseOf<typeof DescribeUserScramCredentials>['results'] = []) => ({ throttleTimeMs: 0, errorCode, errorMessage, results });
  if (!mayOnCluster(ctx, Op.DESCRIBE)) return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
  const all: Record<string, Partial<UserCredentials>> = ctx.broker.image.scramCredentials ?? {};
  const infos = (user: string) =>
    (Object.keys(all[user] ?? {}) as ScramMechanismName[]).sort().map((m) => ({ mechanism: MECHANISM_CODE[m], iterations: all[user][m]!.iterations }));
  if (req.users === null || req.users.length === 0) {
    return answer(0, null, Object.keys(all).sort().map((user) => ({ user, errorCode: 0, errorMessage: null, credentialInfos: infos(user) })));
  }
  const names = req.users.map((u) => u.name);
  const results = [...new Set(names)].map((user) => {
    if (names.filter((n) => n === user).length > 1) return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request', credentialInfos: [] };
    if (!all[user] || Object.keys(all[user]).length === 0) return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] };
    return { user, errorCode: 0, errorMessage: null, credentialInfos: infos(user) };
  });
  return answer(0, null, results);
}

export async function handleAlterUserScramCredentials(req: RequestOf<typeof AlterUserScramCredentials>, ctx: HandlerContext): Promise<ResponseOf<typeof AlterUserScramCredentials>> {
  if (!mayOnCluster(ctx, Op.ALTER)) {
    const users = [...new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)])];
    return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })) };
  }
  const deletions = req.deletions.map((d) => ({ name: d.name, mechanism: SCRAM_MECHANISM_CODES[d.mechanism] ?? null }));
  const upsertions = req.upsertions.map((u) => {
    const mechanism = SCRAM_MECHANISM_CODES[u.mechanism] ?? null;
    const problem =
      u.iterations < SCRAM_MIN_ITERATIONS ? 'Too few iterations' : u.iterations > SCRAM_MAX_ITERATIONS ? 'Too many iterations' : u.saltedPassword.length === 0 ? 'Salted password must not be empty' : undefined;
    const credential = mechanism && !problem ? scramCredentialFromSaltedPassword(mechanism, u.salt, u.saltedPassword, u.iterations) : null;
    return { name: u.name, mechanism, credential, problem };
  });
  const results = await ctx.broker.controller.alterScramCredentials(deletions, upsertions);
  ctx.broker.applyMetadata(await ctx.broker.controller.metadata());
  return { throttleTimeMs: 0, results };
}
