import { createHash, createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

// A software authenticator for API tests: a P-256 key made with node:crypto, answering
// navigator.credentials.create() with a 'none' attestation and .get() with an ES256 assertion,
// in the JSON forms a browser sends (WebAuthn Level 3 §5.1.8, §5.1.9). CBOR is encoded with the
// encoder @simplewebauthn/server itself ships (tiny-cbor), so no other dependency. No maintained
// npm package does this for Node (the emulators there are browser-side or unmaintained).

const FLAG_UP = 0x01; // user present
const FLAG_UV = 0x04; // user verified
const FLAG_AT = 0x40; // attested credential data included

const b64url = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export interface CreationOptions {
  challenge: string;
  rp: { id?: string | undefined };
}

export interface RequestOptions {
  challenge: string;
  rpId?: string | undefined;
}

/** One credential on a software authenticator. */
export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(32);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  /** The signature counter; each assertion adds one. */
  signCount = 0;

  constructor(
    readonly origin: string,
    readonly rpId: string,
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  /** The COSE_Key of the public key (RFC 9053 §7.1.1: kty EC2, alg ES256, crv P-256). */
  private coseKey(): Uint8Array {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    );
  }

  private clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin = this.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** What navigator.credentials.create() would answer, as JSON (`origin` to fake a phishing site). */
  create(options: CreationOptions, origin = this.origin) {
    const rpId = options.rp.id ?? this.rpId;
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([FLAG_UP | FLAG_UV | FLAG_AT]),
      u32(this.signCount),
      Buffer.alloc(16), // AAGUID: zeros, as with attestation 'none'
      Buffer.from([this.credentialId.length >> 8, this.credentialId.length & 0xff]),
      this.credentialId,
      Buffer.from(this.coseKey()),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Map<string, string> | Uint8Array>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64url(this.clientData('webauthn.create', options.challenge, origin)),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
    };
  }

  /**
   * What navigator.credentials.get() would answer, as JSON. `tamper` signs something else (a
   * wrong signature); `counter` sets the signature counter instead of adding one.
   */
  get(options: RequestOptions, { tamper = false, counter }: { tamper?: boolean; counter?: number } = {}) {
    this.signCount = counter ?? this.signCount + 1;
    const authData = Buffer.concat([
      sha256(options.rpId ?? this.rpId),
      Buffer.from([FLAG_UP | FLAG_UV]),
      u32(this.signCount),
    ]);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge);
    const signed = Buffer.concat([authData, sha256(tamper ? Buffer.from('something else') : clientDataJSON)]);
    // ES256 signatures in WebAuthn are DER-encoded (§6.5.6), node:crypto's default for EC keys.
    const signature = createSign('sha256').update(signed).sign(this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
      },
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
    };
  }
}
