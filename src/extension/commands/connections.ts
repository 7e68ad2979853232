// Saved connections: add (tested before saving), edit, remove. Passwords go to SecretStorage only.

import * as vscode from 'vscode';
import type { ClusterAdmin } from '../../client/admin';
import { describeConnectionError, explainConnectionError, KafkaConnectionOptions, SaslMechanism } from '../../client/connection';
import { Commands, passwordSecretKey } from '../constants';
import type { ClusterRef } from '../contract';
import { connectAdmin } from '../model/adminSession';
import { connectionOptions, newConnectionId, saslLabel, SASL_MECHANISMS, SavedConnection, securitySummary, validateBootstrapServers } from '../model/connections';
import { UserError } from '../model/errors';
import { ask, Cancelled, CommandContext, confirm, progress, registerCommand } from './common';

/** The argument of addConnection / editConnection when called programmatically. */
export interface ConnectionInput {
  name: string;
  /** "h:p,h:p" or a list. */
  bootstrapServers: string | string[];
  sasl?: { mechanism: SaslMechanism; username: string; password?: string };
  tls?: SavedConnection['tls'];
}

export interface ConnectionCommandOptions {
  /** Test the connection before saving (default true). */
  test?: boolean;
  /** Save even when the test fails (default false: the command fails). */
  saveOnFailure?: boolean;
}

interface Draft {
  saved: SavedConnection;
  /** New password; undefined keeps the stored one. */
  password?: string;
}

export interface TestResult {
  ok: boolean;
  brokers?: number;
  error?: string;
}

export async function testConnection(saved: SavedConnection, password: string | undefined): Promise<TestResult> {
  let admin: ClusterAdmin | undefined;
  let opts: KafkaConnectionOptions | undefined;
  try {
    opts = await connectionOptions(saved, password);
    admin = await connectAdmin({ ...opts, retry: { retries: 1, initialRetryTimeMs: 200, maxRetryTimeMs: 1000 }, connectionTimeoutMs: 3000, requestTimeoutMs: 10000 });
    const d = await admin.describeCluster();
    return { ok: true, brokers: d.brokers.length };
  } catch (err) {
    if (err instanceof UserError) return { ok: false, error: err.message };
    // A failure after connecting, explained with the options as connectAdmin explains one while connecting.
    return { ok: false, error: opts ? await explainConnectionError(err, opts) : describeConnectionError(err, saved.bootstrapServers.split(',')) };
  } finally {
    await admin?.disconnect().catch(() => undefined);
  }
}

function fromInput(input: Partial<ConnectionInput>, id: string): Draft {
  if (!input.name || !input.bootstrapServers) throw new UserError('a connection needs a name and bootstrapServers');
  const bootstrapServers = Array.isArray(input.bootstrapServers) ? input.bootstrapServers.join(',') : input.bootstrapServers;
  const problem = validateBootstrapServers(bootstrapServers);
  if (problem) throw new UserError(problem);
  const saved: SavedConnection = { id, name: input.name, bootstrapServers };
  if (input.sasl) {
    if (!SASL_MECHANISMS.includes(input.sasl.mechanism)) throw new UserError(`unknown SASL mechanism ${input.sasl.mechanism} (use ${SASL_MECHANISMS.join(', ')})`);
    saved.sasl = { mechanism: input.sasl.mechanism, username: input.sasl.username };
  }
  if (input.tls) saved.tls = { ...input.tls, enabled: input.tls.enabled !== false };
  return { saved, ...(input.sasl?.password !== undefined ? { password: input.sasl.password } : {}) };
}

async function pickFile(title: string): Promise<string | undefined> {
  const uris = await vscode.window.showOpenDialog({ title, canSelectMany: false, openLabel: 'Select', filters: { 'PEM files': ['pem', 'crt', 'cer', 'key'], 'All files': ['*'] } });
  return uris?.[0]?.fsPath;
}

/** The add/edit wizard: input boxes and quick picks, prefilled from `start` when editing. */
async function wizard(start: SavedConnection, editing: boolean, existingNames: string[]): Promise<Draft> {
  const name = await vscode.window.showInputBox({
    title: editing ? `Edit connection ${start.name} (1/4)` : 'Add Kafka connection (1/4)',
    prompt: 'A name for the connection',
    value: start.name,
    validateInput: (v) => (!v.trim() ? 'give the connection a name' : existingNames.includes(v.trim()) ? `a connection named '${v.trim()}' exists already` : undefined),
  });
  if (name === undefined) throw new Cancelled();
  const bootstrapServers = await vscode.window.showInputBox({
    title: `${name}: bootstrap servers (2/4)`,
    prompt: 'host:port of one or more brokers, comma-separated',
    placeHolder: 'localhost:9092',
    value: start.bootstrapServers,
    validateInput: (v) => validateBootstrapServers(v),
  });
  if (bootstrapServers === undefined) throw new Cancelled();
  const saved: SavedConnection = { id: start.id, name: name.trim(), bootstrapServers: bootstrapServers.split(',').map((s) => s.trim()).filter(Boolean).join(',') };

  const security = await vscode.window.showQuickPick(
    [
      { label: 'None', description: 'no authentication', mechanism: undefined },
      ...SASL_MECHANISMS.map((m) => ({ label: saslLabel(m), description: m === 'plain' ? 'username and password (use with TLS)' : 'salted challenge-response', mechanism: m })),
    ].map((i) => ({ ...i, picked: i.mechanism === start.sasl?.mechanism })),
    { title: `${saved.name}: authentication (3/4)`, placeHolder: `Currently: ${saslLabel(start.sasl?.mechanism)}` },
  );
  if (!security) throw new Cancelled();
  let password: string | undefined;
  if (security.mechanism) {
    const username = await vscode.window.showInputBox({
      title: `${saved.name}: ${security.label} username`,
      value: start.sasl?.username ?? '',
      validateInput: (v) => (v ? undefined : 'the username is empty'),
    });
    if (username === undefined) throw new Cancelled();
    const keep = editing && start.sasl !== undefined;
    password = await vscode.window.showInputBox({
      title: `${saved.name}: password for ${username}`,
      prompt: keep ? 'Leave empty to keep the stored password. Stored in VS Code\'s secret storage, not in settings.' : 'Stored in VS Code\'s secret storage, not in settings.',
      password: true,
      validateInput: (v) => (v || keep ? undefined : 'the password is empty'),
    });
    if (password === undefined) throw new Cancelled();
    if (password === '') password = undefined;
    saved.sasl = { mechanism: security.mechanism, username };
  }

  const tlsChoice = await vscode.window.showQuickPick(
    [
      { label: 'Plaintext', description: 'no TLS', value: 'off' },
      { label: 'TLS', description: 'trust the system certificate authorities', value: 'system' },
      { label: 'TLS with a CA file…', description: 'a PEM file of the authority that signed the brokers\' certificates', value: 'ca' },
      { label: 'TLS without verification', description: 'accept any certificate (self-signed test clusters only)', value: 'insecure' },
    ],
    { title: `${saved.name}: encryption (4/4)`, placeHolder: start.tls?.enabled ? `Currently: ${securitySummary(start)}` : 'Currently: plaintext' },
  );
  if (!tlsChoice) throw new Cancelled();
  if (tlsChoice.value !== 'off') {
    const tls: NonNullable<SavedConnection['tls']> = { enabled: true };
    if (tlsChoice.value === 'insecure') tls.skipVerify = true;
    if (tlsChoice.value === 'ca') {
      const ca = await pickFile('CA certificate (PEM)');
      if (!ca) throw new Cancelled();
      tls.caFile = ca;
    }
    const mtls = await vscode.window.showQuickPick(
      [
        { label: 'No client certificate', value: false },
        { label: 'Client certificate and key…', description: 'mutual TLS', value: true },
      ],
      { title: `${saved.name}: client certificate` },
    );
    if (!mtls) throw new Cancelled();
    if (mtls.value) {
      const cert = await pickFile('Client certificate (PEM)');
      if (!cert) throw new Cancelled();
      const key = await pickFile('Client key (PEM)');
      if (!key) throw new Cancelled();
      tls.certFile = cert;
      tls.keyFile = key;
    }
    saved.tls = tls;
  }
  return { saved, ...(password !== undefined ? { password } : {}) };
}

export function registerConnectionCommands(ctx: CommandContext): vscode.Disposable[] {
  const registry = ctx.registry;

  /** Tests the draft unless told not to; on failure asks to save anyway or edit (returns 'edit'). */
  async function testAndSave(draft: Draft, opts: ConnectionCommandOptions | undefined, storedPassword: string | undefined): Promise<'saved' | 'edit'> {
    if (opts?.test !== false) {
      const password = draft.password ?? storedPassword;
      const result = await progress(`MiniKafka: connecting to ${draft.saved.bootstrapServers}…`, () => testConnection(draft.saved, password));
      if (!result.ok) {
        if (opts) {
          if (!opts.saveOnFailure) throw new UserError(`cannot connect to ${draft.saved.name}: ${result.error}`);
        } else {
          const answer = await vscode.window.showWarningMessage(`Cannot connect to ${draft.saved.name}: ${result.error}`, { modal: true }, 'Save Anyway', 'Edit');
          if (answer === 'Edit') return 'edit';
          if (answer !== 'Save Anyway') throw new Cancelled();
        }
      } else if (!opts) {
        void vscode.window.showInformationMessage(`Connected to ${draft.saved.name}: ${result.brokers} broker${result.brokers === 1 ? '' : 's'}.`);
      }
    }
    await registry.saveConnection(draft.saved, draft.password);
    return 'saved';
  }

  const add = async (input: Partial<ConnectionInput> | undefined, opts: ConnectionCommandOptions | undefined): Promise<ClusterRef> => {
    const existing = registry.savedConnections();
    if (input?.name && input.bootstrapServers) {
      const draft = fromInput(input, newConnectionId(existing, input.name));
      await testAndSave(draft, opts ?? {}, undefined);
      return { clusterId: draft.saved.id };
    }
    if (opts) throw new UserError('name and bootstrapServers are missing from the command\'s arguments');
    let start: SavedConnection = { id: '', name: input?.name ?? '', bootstrapServers: input?.bootstrapServers?.toString() ?? 'localhost:9092' };
    for (;;) {
      const draft = await wizard(start, false, existing.map((c) => c.name));
      draft.saved.id = newConnectionId(existing, draft.saved.name);
      if ((await testAndSave(draft, undefined, undefined)) === 'saved') return { clusterId: draft.saved.id };
      start = draft.saved;
    }
  };

  const pickConnection = async (ref: Partial<ClusterRef> | undefined, opts: object | undefined): Promise<SavedConnection> => {
    const list = registry.savedConnections();
    if (ref?.clusterId) {
      const c = list.find((x) => x.id === ref.clusterId);
      if (!c) throw new UserError(ref.clusterId === 'embedded' ? 'the embedded mini-cluster is not a saved connection' : `no saved connection with id '${ref.clusterId}'`);
      return c;
    }
    return ask(opts, 'clusterId', async () => {
      if (list.length === 0) throw new UserError('there are no saved connections');
      const picked = await vscode.window.showQuickPick(
        list.map((c) => ({ label: c.name, description: c.bootstrapServers, detail: securitySummary(c), c })),
        { placeHolder: 'Which connection?' },
      );
      return picked?.c;
    });
  };

  return [
    registerCommand<ConnectionInput, ConnectionCommandOptions, ClusterRef>(ctx, Commands.addConnection, add),
    registerCommand<ClusterRef & ConnectionInput, ConnectionCommandOptions, ClusterRef>(ctx, Commands.editConnection, async (ref, opts) => {
      const current = await pickConnection(ref, opts);
      const stored = current.sasl ? await ctx.extensionContext.secrets.get(passwordSecretKey(current.id)) : undefined;
      if (ref?.name || ref?.bootstrapServers || opts) {
        const draft = fromInput({ name: current.name, bootstrapServers: current.bootstrapServers, ...ref }, current.id);
        if (!ref?.sasl && current.sasl && ref?.sasl !== null) draft.saved.sasl = current.sasl;
        if (!ref?.tls && current.tls) draft.saved.tls = current.tls;
        await testAndSave(draft, opts ?? {}, stored);
        return { clusterId: current.id };
      }
      let start = current;
      const others = registry.savedConnections().filter((c) => c.id !== current.id).map((c) => c.name);
      for (;;) {
        const draft = await wizard(start, true, others);
        if ((await testAndSave(draft, undefined, stored)) === 'saved') return { clusterId: current.id };
        start = draft.saved;
      }
    }),
    registerCommand<ClusterRef, object, void>(ctx, Commands.removeConnection, async (ref, opts) => {
      const c = await pickConnection(ref, opts);
      await confirm(opts, `Remove the connection '${c.name}'?`, `${c.bootstrapServers}\nThe cluster itself is not touched; the stored password is deleted.`, 'Remove');
      await registry.removeConnection(c.id);
    }),
  ];
}
