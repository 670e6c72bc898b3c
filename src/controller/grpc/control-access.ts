import type { AccessGrant, ControlServer } from '../../gen/switchyard/v1/control.js';
import { grantAccess, listAccess, removeServer, revokeAccess, rotateJoinToken, whoAmI } from '../service/access.js';
import type { ControllerService } from '../service/service.js';
import type { IssuedRecord } from '../store.js';
import { unary } from './adapt.js';

type AccessRpcs = 'whoAmI' | 'grantAccess' | 'listAccess' | 'revokeAccess' | 'rotateJoinToken' | 'removeServer';

function grantOf(c: IssuedRecord): AccessGrant {
  return {
    name: c.name,
    role: c.role,
    serial: c.serial,
    grantedMs: c.issuedMs,
    notAfterMs: c.notAfterMs,
    grantedBy: c.issuedBy,
    revokedMs: c.revokedMs,
    revokedBy: c.revokedBy,
  };
}

/** Control: who the caller is, operators' credentials, the join token and removing servers, over the controller service. */
export function accessControl(service: ControllerService): Pick<ControlServer, AccessRpcs> {
  return {
    whoAmI: unary((_req, caller) => service.read(caller, whoAmI, undefined)),
    grantAccess: unary((req, caller) => service.change(caller, grantAccess, req)),
    listAccess: unary((_req, caller) => ({ grants: service.read(caller, listAccess, undefined).map(grantOf) })),
    revokeAccess: unary(async (req, caller) => ({ serials: await service.change(caller, revokeAccess, req.name) })),
    rotateJoinToken: unary((_req, caller) => service.change(caller, rotateJoinToken, undefined)),
    removeServer: unary((req, caller) => service.change(caller, removeServer, req.server)),
  };
}
