import { randomBytes } from 'node:crypto';
import type { WalkModule } from './walk.types';

const b64 = (n: number) => randomBytes(n).toString('base64url');

/** Passkeys: the victim admin's own, and the sign-in step that completes with one. */
export const walk: WalkModule = {
  async setup(ctx) {
    const user = await ctx.db.prisma.adminUser.findUniqueOrThrow({ where: { email: ctx.victim.adminEmail } });
    const passkey = await ctx.db.prisma.adminPasskey.create({
      data: {
        userId: user.id,
        credentialId: b64(32),
        publicKey: new Uint8Array(randomBytes(77)),
        name: 'Victim key',
        deviceType: 'singleDevice',
        transports: ['usb'],
      },
    });
    return { passkeyId: passkey.id };
  },
  bodies: {
    'POST /v1/auth/mfa/passkeys/registration/options': {},
    'POST /v1/auth/mfa/passkeys': {
      name: 'Taken Over',
      credential: {
        id: b64(32),
        rawId: b64(32),
        type: 'public-key',
        response: { clientDataJSON: b64(64), attestationObject: b64(128) },
        clientExtensionResults: {},
      },
    },
    'PATCH /v1/auth/mfa/passkeys/{passkeyId}': { name: 'Taken Over' },
    'POST /v1/auth/login/mfa/passkey/options': { mfaToken: 'not-a-challenge' },
    'POST /v1/auth/login/mfa/passkey': {
      mfaToken: 'not-a-challenge',
      credential: {
        id: b64(32),
        rawId: b64(32),
        type: 'public-key',
        response: { clientDataJSON: b64(64), authenticatorData: b64(37), signature: b64(70) },
        clientExtensionResults: {},
      },
    },
  },
};
