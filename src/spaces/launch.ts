import type { FastifyReply, FastifyRequest } from 'fastify';
import { readParams } from '../http/params.js';
import { openSession } from '../oauth/authorize/session.js';
import { InvalidRequest } from '../errors.js';
import { LAUNCH_SUBJECT_PREFIX } from '../oauth/subject.js';
import { sendPage } from '../views/send.js';
import { messages as m } from '../views/messages/index.js';
import { errorPage } from '../views/pages.js';
import { requestOrigin } from '../observability/audit.js';
import type { SpacesDeps } from './context.js';
import { LaunchRefused, normaliseBaseUrl, verifyLaunch } from '../tokens/launch-token.js';

/**
 * POST /spaces/launch (`token`, `version`; form or JSON): Cisco Spaces opens the app. On a
 * valid, unreplayed token for a known tenant, a login session for that tenant is opened and
 * the browser goes to the tenant's app URL, where the ordinary code flow completes without a
 * prompt. Every refusal is a 401 page and a logged reason, never a session.
 */
export async function launchEndpoint(
  deps: SpacesDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  try {
    const params = readParams(request);
    const token = params['token'];
    if (token === undefined) throw new LaunchRefused('no token');
    const now = deps.clock();
    const { claims, signature } = await verifyLaunch(token, params['version'], {
      allowedBaseUrls: deps.config.spacesLaunchAllowedBaseUrls.map((u) => normaliseBaseUrl(u) ?? u),
      keys: deps.launchKeys,
      now,
    });
    const tenant = await deps.store.getTenant(claims.partnerTenantId);
    if (!tenant?.appUrl)
      throw new LaunchRefused(`tenant ${claims.partnerTenantId} is unknown or has no app URL`);
    // The verified bytes, not the token's text: other spellings of one signature must not pass.
    const replayKey = deps.crypto.hashSecret(signature.toString('base64url'));
    if (!(await deps.store.recordLaunchToken(replayKey, claims.exp + 60))) {
      throw new LaunchRefused('token already used (replay)');
    }
    await openSession(deps, reply, {
      userId: null,
      subject: `${LAUNCH_SUBJECT_PREFIX}${tenant.id}`,
      tenantId: tenant.id,
    });
    await deps.audit.record({
      type: 'launch.accepted',
      tenantId: tenant.id,
      reason: `appId ${String(claims.appId ?? '-')}, activationRefId ${String(claims.activationRefId ?? '-')}`,
      ...requestOrigin(request),
    });
    await reply.code(303).header('location', new URL(tenant.appUrl).href).send();
  } catch (err) {
    if (!(err instanceof LaunchRefused) && !(err instanceof InvalidRequest)) throw err;
    await deps.audit.record({
      type: 'launch.refused',
      reason: err.message,
      ...requestOrigin(request),
    });
    await sendPage(
      reply,
      401,
      errorPage({
        title: m.launchRefusedTitle,
        code: 'launch-refused',
        message: m.launchRefusedMessage,
      }),
    );
  }
}
