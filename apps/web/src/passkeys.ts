import {
  WebAuthnError,
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { must } from './session';

type Registered = ApiSchema<'PasskeyRegisteredResponse'>;
type TokenPair = ApiSchema<'TokenPairResponse'>;

// The API's options are WebAuthn's JSON forms; its document types their enums (transports,
// attestation, user verification) as plain strings, the library as DOM unions.
const creation = (o: unknown) => o as PublicKeyCredentialCreationOptionsJSON;
const request = (o: unknown) => o as PublicKeyCredentialRequestOptionsJSON;
// The extension outputs as a plain object, which the document types as a string-keyed record.
const plain = <C extends { clientExtensionResults: object }>(c: C) => ({
  ...c,
  clientExtensionResults: { ...c.clientExtensionResults } as Record<string, unknown>,
});

/**
 * Registers a passkey: options from the API, navigator.credentials.create() (through
 * @simplewebauthn/browser), the answer back to the API. Throws the library's WebAuthnError when
 * the device refuses or the user cancels, ApiError when the API does.
 */
export async function registerPasskey(client: ApiClient, name: string): Promise<Registered> {
  const options = must(await client.POST('/v1/auth/mfa/passkeys/registration/options'));
  const credential = await startRegistration({ optionsJSON: creation(options) });
  return must(await client.POST('/v1/auth/mfa/passkeys', { body: { name, credential: plain(credential) } }));
}

/**
 * The passkey path of the sign-in step: for the `mfaToken` of an `mfa_required` answer whose
 * `methods` include `passkey`, options bound to it, navigator.credentials.get(), and the tokens
 * POST /v1/auth/login/mfa/passkey answers (as POST /v1/auth/login/mfa does for a code).
 */
export async function signInWithPasskey(anonymous: ApiClient, mfaToken: string): Promise<TokenPair> {
  const options = must(await anonymous.POST('/v1/auth/login/mfa/passkey/options', { body: { mfaToken } }));
  const credential = await startAuthentication({ optionsJSON: request(options) });
  return must(
    await anonymous.POST('/v1/auth/login/mfa/passkey', { body: { mfaToken, credential: plain(credential) } }),
  );
}

/** True when the device or the user, not the API, refused (cancelled prompt, no matching key). */
export function isDeviceRefusal(error: unknown): boolean {
  return error instanceof WebAuthnError || (error instanceof DOMException && error.name === 'NotAllowedError');
}
