import type { Caller, Role } from './caller.js';
import type { ServiceParts } from './parts.js';

/** What an operation's steps are given besides its input. */
export interface Context {
  readonly caller: Caller;
  readonly parts: ServiceParts;
}

interface Declared<In, Checked> {
  /** The operator's name for it (`workload.stop`): the audit line's action, and what PERMISSION_DENIED names. */
  readonly name: string;
  /** The weakest role that may call it. */
  readonly role: Role;
  /** Checks the input and applies its defaults; throws INVALID_ARGUMENT saying what is wrong. */
  readonly validate: (input: In) => Checked;
}

/** Looks at the fleet; not audited. */
export interface Read<In, Out, Checked = In> extends Declared<In, Checked> {
  readonly kind: 'read';
  readonly act: (input: Checked, ctx: Context) => Out;
}

/** Changes the fleet; recorded in the audit trail with its outcome. */
export interface Change<In, Out, Checked = In> extends Declared<In, Checked> {
  readonly kind: 'change';
  /** What it acts on, as the audit line says it. */
  readonly target: (input: Checked, ctx: Context) => string;
  readonly act: (input: Checked, ctx: Context) => Out | Promise<Out>;
}

/** Its input as given, for operations with nothing to check. */
const asGiven = <T>(input: T) => input;

export function read<In, Out>(op: Omit<Read<In, Out>, 'kind' | 'validate'>): Read<In, Out>;
export function read<In, Out, Checked>(op: Omit<Read<In, Out, Checked>, 'kind'>): Read<In, Out, Checked>;
export function read<In, Out, Checked>(
  op: Omit<Read<In, Out, Checked>, 'kind' | 'validate'> & { validate?: (input: In) => Checked },
): Read<In, Out, Checked> {
  return { kind: 'read', validate: asGiven as (input: In) => Checked, ...op };
}

export function change<In, Out>(op: Omit<Change<In, Out>, 'kind' | 'validate'>): Change<In, Out>;
export function change<In, Out, Checked>(op: Omit<Change<In, Out, Checked>, 'kind'>): Change<In, Out, Checked>;
export function change<In, Out, Checked>(
  op: Omit<Change<In, Out, Checked>, 'kind' | 'validate'> & { validate?: (input: In) => Checked },
): Change<In, Out, Checked> {
  return { kind: 'change', validate: asGiven as (input: In) => Checked, ...op };
}

/** A change to the one thing its input names, which is also what the audit line says it acted on. */
export function changeOne<Out>(
  name: string,
  act: (target: string, ctx: Context) => Out | Promise<Out>,
  validate: (input: string) => string = asGiven,
): Change<string, Out> {
  return { kind: 'change', name, role: 'operator', validate, target: asGiven, act };
}

/** A read of everything of one kind (it takes no input). */
export function readAll<Out>(name: string, act: (ctx: Context) => Out): Read<undefined, Out> {
  return { kind: 'read', name, role: 'viewer', validate: asGiven, act: (_, ctx) => act(ctx) };
}
