// ACLs: add a binding (quick picks and validated input boxes, or a complete binding as the options argument) and
// remove one (from its row's context menu, or picked from the list).

import * as vscode from 'vscode';
import { ACL_RESOURCE_TYPES, AclBindingInfo, AclResourceType } from '../../client/admin';
import { Commands } from '../constants';
import type { ClusterRef } from '../contract';
import { CLUSTER_RESOURCE_NAME, OPERATIONS_BY_RESOURCE, parseAclBinding, validateAclHost, validatePrincipal, validateResourceName } from '../model/aclValidation';
import { UserError } from '../model/errors';
import { describeAcl } from '../tree/node.acl';
import { ask, cancelIfUndefined, CommandContext, cluster, confirm, progress, registerCommand, withAdmin } from './common';

export interface AclRef extends ClusterRef {
  acl: AclBindingInfo;
}

/** Asks for each part of a binding in kafka-acls.sh's order: resource, principal, host, operation, permission. */
async function promptBinding(): Promise<Partial<AclBindingInfo>> {
  const resourceType = cancelIfUndefined(
    await vscode.window.showQuickPick([...ACL_RESOURCE_TYPES], { title: 'Add ACL (1/6)', placeHolder: 'Resource type' }),
  ) as AclResourceType;
  let resourceName = CLUSTER_RESOURCE_NAME;
  let patternType: AclBindingInfo['patternType'] = 'LITERAL';
  if (resourceType !== 'CLUSTER') {
    const pattern = cancelIfUndefined(
      await vscode.window.showQuickPick(
        [
          { label: 'LITERAL', description: 'exactly this name (or * for every one)' },
          { label: 'PREFIXED', description: 'every name that starts with it' },
        ],
        { title: 'Add ACL (2/6)', placeHolder: 'Pattern type' },
      ),
    );
    patternType = pattern.label as AclBindingInfo['patternType'];
    resourceName = cancelIfUndefined(
      await vscode.window.showInputBox({
        title: 'Add ACL (3/6)',
        prompt: `${resourceType} name${patternType === 'PREFIXED' ? ' prefix' : ' (* = every one)'}`,
        validateInput: (v) => validateResourceName(resourceType, v, patternType),
      }),
    );
  }
  const principal = cancelIfUndefined(
    await vscode.window.showInputBox({ title: 'Add ACL (4/6)', prompt: 'Principal (User:name; User:* for everyone)', value: 'User:', validateInput: validatePrincipal }),
  );
  const host = cancelIfUndefined(await vscode.window.showInputBox({ title: 'Add ACL (5/6)', prompt: 'Host: * or an IP address', value: '*', validateInput: validateAclHost }));
  const operation = cancelIfUndefined(
    await vscode.window.showQuickPick([...OPERATIONS_BY_RESOURCE[resourceType]], { title: 'Add ACL (6/6)', placeHolder: `Operation on the ${resourceType.toLowerCase()}` }),
  );
  const permission = cancelIfUndefined(
    await vscode.window.showQuickPick(
      [
        { label: 'ALLOW', description: 'grant the operation' },
        { label: 'DENY', description: 'refuse it (a DENY wins over any ALLOW)' },
      ],
      { placeHolder: 'Permission' },
    ),
  );
  return { resourceType, resourceName, patternType, principal, host, operation: operation as AclBindingInfo['operation'], permission: permission.label as AclBindingInfo['permission'] };
}

export function registerAclCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    registerCommand<ClusterRef, Partial<AclBindingInfo>, AclBindingInfo>(ctx, Commands.addAcl, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      // Before six questions: a cluster without an authorizer would refuse the binding at the end.
      const current = await handle.source()!.acls();
      if (!current.enabled) throw new UserError(`${handle.label} has no authorizer, so it keeps no ACLs (start its brokers with authorizer.class.name set)`);
      const parsed = parseAclBinding(opts ?? (await promptBinding()));
      if ('error' in parsed) throw new UserError(parsed.error);
      const binding = parsed.binding;
      await progress(`MiniKafka: adding ACL ${describeAcl(binding)}…`, () => withAdmin(handle, (a) => a.createAcl(binding)));
      ctx.provider.refresh(handle.id);
      return binding;
    }),

    registerCommand<AclRef, object, number>(ctx, Commands.removeAcl, async (ref, opts) => {
      const handle = await cluster(ctx, ref, opts);
      let acl = ref?.acl;
      if (!acl) {
        acl = await ask(opts, 'acl', async () => {
          const res = await handle.source()!.acls();
          if (!res.enabled) throw new UserError(`${handle.label} has no authorizer: ${res.reason}`);
          if (res.acls.length === 0) throw new UserError(`${handle.label} has no ACLs`);
          const picked = await vscode.window.showQuickPick(
            res.acls.map((a) => ({ label: `${a.principal} ${a.permission} ${a.operation}`, description: `${a.resourceType} ${a.resourceName} · host ${a.host}`, acl: a })),
            { placeHolder: 'Which ACL?' },
          );
          return picked?.acl;
        });
      }
      const parsed = parseAclBinding(acl);
      if ('error' in parsed) throw new UserError(parsed.error);
      const binding = parsed.binding;
      await confirm(opts, 'Remove this ACL?', describeAcl(binding), 'Remove');
      const removed = await progress('MiniKafka: removing ACL…', () => withAdmin(handle, (a) => a.deleteAcl(binding)));
      if (removed === 0 && opts) throw new UserError(`no such ACL: ${describeAcl(binding)}`);
      if (removed === 0) void vscode.window.showWarningMessage(`The ACL was already gone: ${describeAcl(binding)}`);
      ctx.provider.refresh(handle.id);
      return removed;
    }),
  ];
}
