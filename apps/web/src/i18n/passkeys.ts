/**
 * The strings of passkeys (PasskeysSection and the passkey option of the sign-in step), spread
 * into both catalogues of i18n.tsx. `passkeysSk` must name every key of `passkeysEn`.
 */
export const passkeysEn = {
  'passkeys.title': 'Passkeys',
  'passkeys.hint':
    'A passkey is a second factor kept by this device, your phone or a security key: you confirm the sign-in with a touch, your fingerprint or your screen lock.',
  'passkeys.empty': 'You have no passkey yet.',
  'passkeys.created': 'Added {date}',
  'passkeys.lastUsed': 'Last used {date}',
  'passkeys.neverUsed': 'Not used yet',
  'passkeys.synced': 'Synced',
  'passkeys.name': 'Name of the new passkey',
  'passkeys.nameHint': 'For example "Work laptop" or "YubiKey"',
  'passkeys.add': 'Add a passkey',
  'passkeys.adding': 'Waiting for your device…',
  'passkeys.added': 'Passkey {name} added.',
  'passkeys.remove': 'Remove',
  'passkeys.removeLabel': 'Remove the passkey {name}',
  'passkeys.removed': 'Passkey {name} removed.',
  'passkeys.cancelled': 'The device did not create a passkey (cancelled or timed out). Try again.',
  'passkeys.duplicate': 'This device already holds a passkey for your account.',
  'passkeys.unsupported': 'This browser cannot use passkeys.',
  'login.passkey': 'Use a passkey',
  'login.passkeyBusy': 'Waiting for your passkey…',
  'login.passkeyFailed': 'The passkey was not accepted. Try again or enter a code.',
} as const;

export const passkeysSk: Record<keyof typeof passkeysEn, string> = {
  'passkeys.title': 'Prístupové kľúče',
  'passkeys.hint':
    'Prístupový kľúč je druhý faktor uložený v tomto zariadení, vo vašom telefóne alebo v bezpečnostnom kľúči: prihlásenie potvrdíte dotykom, odtlačkom prsta alebo zámkom obrazovky.',
  'passkeys.empty': 'Zatiaľ nemáte žiadny prístupový kľúč.',
  'passkeys.created': 'Pridaný {date}',
  'passkeys.lastUsed': 'Naposledy použitý {date}',
  'passkeys.neverUsed': 'Ešte nepoužitý',
  'passkeys.synced': 'Synchronizovaný',
  'passkeys.name': 'Názov nového prístupového kľúča',
  'passkeys.nameHint': 'Napríklad „Pracovný notebook“ alebo „YubiKey“',
  'passkeys.add': 'Pridať prístupový kľúč',
  'passkeys.adding': 'Čaká sa na vaše zariadenie…',
  'passkeys.added': 'Prístupový kľúč {name} je pridaný.',
  'passkeys.remove': 'Odstrániť',
  'passkeys.removeLabel': 'Odstrániť prístupový kľúč {name}',
  'passkeys.removed': 'Prístupový kľúč {name} je odstránený.',
  'passkeys.cancelled': 'Zariadenie prístupový kľúč nevytvorilo (zrušené alebo vypršal čas). Skúste to znova.',
  'passkeys.duplicate': 'Toto zariadenie už má prístupový kľúč pre váš účet.',
  'passkeys.unsupported': 'Tento prehliadač nevie používať prístupové kľúče.',
  'login.passkey': 'Použiť prístupový kľúč',
  'login.passkeyBusy': 'Čaká sa na váš prístupový kľúč…',
  'login.passkeyFailed': 'Prístupový kľúč nebol prijatý. Skúste to znova alebo zadajte kód.',
};
