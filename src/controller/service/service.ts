import { authorize, type Caller } from './caller.js';
import type { Change, Context, Read } from './operation.js';
import type { ServiceParts } from './parts.js';

/**
 * The one door into the controller: every operation, from the Control API or the embedded
 * dashboard, goes validate → authorize → act here, changes recorded in the audit trail (refused ones too).
 */
export class ControllerService {
  constructor(private readonly parts: ServiceParts) {}

  read<In, Out, Checked>(caller: Caller, op: Read<In, Out, Checked>, input: In): Out {
    const checked = op.validate(input);
    authorize(caller, op);
    return op.act(checked, this.context(caller));
  }

  /** A change refused for want of a role is recorded too (who tried what, and why not), and never acts. */
  async change<In, Out, Checked>(caller: Caller, op: Change<In, Out, Checked>, input: In): Promise<Out> {
    const checked = op.validate(input);
    const ctx = this.context(caller);
    return this.parts.audit.record(caller.name, op.name, op.target(checked, ctx), () => {
      authorize(caller, op);
      return op.act(checked, ctx);
    });
  }

  private context(caller: Caller): Context {
    return { caller, parts: this.parts };
  }
}
