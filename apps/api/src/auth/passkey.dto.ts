import { z } from 'zod';
import { createZodDto } from '../common/zod-dto';

// WebAuthn's JSON forms (WebAuthn Level 3 §5.1.8/§5.1.9 toJSON(), as @simplewebauthn/browser
// sends them). Binary fields are base64url. Unknown members are dropped, not refused: browsers add
// members (authenticatorData, publicKey, ...) that the verification does not need.
const b64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/, 'base64url')
  .max(16_384);
const transports = z.array(z.string().max(32)).max(10);

const RegistrationCredentialSchema = z.object({
  id: b64url.min(1).max(1_400),
  rawId: b64url.min(1).max(1_400),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url,
    attestationObject: b64url,
    transports: transports.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

const AuthenticationCredentialSchema = z.object({
  id: b64url.min(1).max(1_400),
  rawId: b64url.min(1).max(1_400),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

const passkeyName = z.string().trim().min(1).max(100);

export const RegisterPasskeySchema = z
  .object({
    name: passkeyName.describe('A name to tell this passkey from others, such as "YubiKey" or "Work laptop"'),
    credential: RegistrationCredentialSchema.describe('What navigator.credentials.create() answered, as JSON'),
  })
  .strict();
export class RegisterPasskeyDto extends createZodDto(RegisterPasskeySchema) {}

export const RenamePasskeySchema = z.object({ name: passkeyName }).strict();
export class RenamePasskeyDto extends createZodDto(RenamePasskeySchema) {}

export const PasskeyLoginOptionsSchema = z.object({ mfaToken: z.string().min(1).max(2000) }).strict();
export class PasskeyLoginOptionsDto extends createZodDto(PasskeyLoginOptionsSchema) {}

export const CompletePasskeyLoginSchema = z
  .object({
    mfaToken: z.string().min(1).max(2000),
    credential: AuthenticationCredentialSchema.describe('What navigator.credentials.get() answered, as JSON'),
  })
  .strict();
export class CompletePasskeyLoginDto extends createZodDto(CompletePasskeyLoginSchema) {}

const credentialDescriptor = z.object({
  id: z.string(),
  type: z.literal('public-key'),
  transports: z.array(z.string()).optional(),
});

export class PasskeyRegistrationOptionsResponse extends createZodDto(
  z
    .object({
      challenge: z.string().describe('base64url; good once, for five minutes'),
      rp: z.object({ id: z.string(), name: z.string() }),
      user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
      pubKeyCredParams: z.array(z.object({ type: z.literal('public-key'), alg: z.number().int() })),
      timeout: z.number().int().optional(),
      excludeCredentials: z.array(credentialDescriptor).optional(),
      authenticatorSelection: z
        .object({
          authenticatorAttachment: z.string().optional(),
          residentKey: z.string().optional(),
          requireResidentKey: z.boolean().optional(),
          userVerification: z.string().optional(),
        })
        .optional(),
      attestation: z.string().optional(),
      hints: z.array(z.string()).optional(),
      extensions: z.record(z.string(), z.unknown()).optional(),
    })
    .describe(
      'PublicKeyCredentialCreationOptionsJSON: pass to navigator.credentials.create() (parseCreationOptionsFromJSON)',
    ),
) {}

export class PasskeyLoginOptionsResponse extends createZodDto(
  z
    .object({
      challenge: z.string().describe('base64url; good once, while the sign-in challenge lasts'),
      rpId: z.string().optional(),
      timeout: z.number().int().optional(),
      allowCredentials: z.array(credentialDescriptor).optional(),
      userVerification: z.string().optional(),
      hints: z.array(z.string()).optional(),
      extensions: z.record(z.string(), z.unknown()).optional(),
    })
    .describe(
      'PublicKeyCredentialRequestOptionsJSON: pass to navigator.credentials.get() (parseRequestOptionsFromJSON)',
    ),
) {}

const PasskeySchema = z.object({
  id: z.string(),
  name: z.string(),
  transports: z.array(z.string()).describe('How the browser reaches it: internal, usb, nfc, ble, hybrid'),
  deviceType: z.enum(['singleDevice', 'multiDevice']).describe('multiDevice: a synced passkey'),
  backedUp: z.boolean(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable().describe('The last sign-in with it'),
});
export class PasskeyResponse extends createZodDto(PasskeySchema) {}

export class PasskeyList extends createZodDto(z.object({ items: z.array(PasskeySchema) })) {}

export class PasskeyRegisteredResponse extends createZodDto(
  z.object({
    passkey: PasskeySchema,
    tokens: z
      .object({
        accessToken: z.string(),
        tokenType: z.literal('Bearer'),
        expiresIn: z.number(),
        refreshToken: z.string(),
      })
      .nullable()
      .describe('A full session when the caller used an enrolment token (mfa_enrolment_required); otherwise null'),
  }),
) {}
