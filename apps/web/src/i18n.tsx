import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { mailboxEn, mailboxSk } from './i18n/mailbox';
import { flowEn, flowSk } from './i18n/flow';
import { passkeysEn, passkeysSk } from './i18n/passkeys';
import { securityEn, securitySk } from './i18n/security';

/**
 * Every user-visible string of the dashboard, in English and Slovak. `sk` must name every key of
 * `en` (the type says so), so a page cannot ship a string only one language has. `{name}` marks
 * a value filled in by `t(key, { name })`.
 */
const en = {
  'app.name': 'Mailroom',
  'app.skip': 'Skip to content',
  'app.language': 'Language',
  'app.signOut': 'Sign out',
  'app.loading': 'Loading…',
  'app.crashed': 'Something went wrong on this page. Reload to try again.',
  'app.reload': 'Reload',
  'nav.main': 'Main',
  'nav.mailboxes': 'Mailboxes',
  'nav.domains': 'Domains',
  'nav.tenant': 'Tenant',
  'nav.notFound': 'There is no such page.',
  'login.title': 'Sign in to Mailroom',
  'login.email': 'Email',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.busy': 'Signing in…',
  'login.wrong': 'Wrong email or password.',
  'login.tooMany': 'Too many failed attempts. Try again in {seconds} seconds.',
  'login.expired': 'Your session has expired. Please sign in again.',
  'login.signedOut': 'You are signed out.',
  'error.server': 'The server could not answer ({status}). Please try again in a moment.',
  'error.network': 'The server cannot be reached. Check your connection and try again.',
  'error.forbidden': 'Your account may not do this.',
  'error.reference': 'Reference: {id}',
  'error.retry': 'Try again',
  'tenant.none': 'This account does not belong to a tenant. Choose the tenant to manage.',
  'tenant.choose': 'Choose a tenant',
  'tenant.empty': 'There are no tenants yet.',
  'tenant.change': 'Change tenant',
  'mailboxes.title': 'Mailboxes',
  'mailboxes.search': 'Search mailboxes',
  'mailboxes.searchHint': 'Address or name',
  'mailboxes.empty': 'No mailbox matches.',
  'mailboxes.address': 'Address',
  'mailboxes.name': 'Name',
  'mailboxes.status': 'Status',
  'mailboxes.quota': 'Storage',
  'mailboxes.protocols': 'Protocols',
  'mailboxes.quotaOf': '{used} of {quota}',
  'mailboxes.protocolSwitch': '{protocol} for {address}',
  'mailboxes.saved': 'Saved.',
  'mailboxes.next': 'Next page',
  'mailboxes.previous': 'Previous page',
  'mailboxes.page': 'Page {page}',
  'mailboxes.new': 'New mailbox',
  'mailboxes.cancel': 'Cancel',
  'mailboxes.done': 'Done',
  'mailboxes.create': 'Create mailbox',
  'mailboxes.creating': 'Creating…',
  'mailboxes.localPart': 'Name before the @',
  'mailboxes.domain': 'Domain',
  'mailboxes.displayName': 'Display name (optional)',
  'mailboxes.password': 'Password (at least 12 characters)',
  'mailboxes.generate': 'Generate a strong password',
  'mailboxes.quotaMb': 'Storage quota in MB',
  'mailboxes.created': 'Mailbox {address} created.',
  'mailboxes.generated': 'Its password, shown this once: {password}',
  'mailboxes.noDomains': 'Add a domain before creating mailboxes.',
  'mailboxes.details': 'Details of {address}',
  'status.active': 'active',
  'status.disabled': 'disabled',
  'status.deleted': 'deleted',
  'status.pending': 'pending',
  'status.verified': 'verified',
  'status.degraded': 'degraded',
  'status.suspended': 'suspended',
  'status.ok': 'ok',
  'status.missing': 'missing',
  'status.mismatch': 'wrong value',
  'status.error': 'could not check',
  'domains.title': 'Domains',
  'domains.empty': 'This tenant has no domains yet.',
  'domains.name': 'Domain',
  'domains.status': 'Status',
  'domains.checked': 'Last checked',
  'domains.never': 'never',
  'domains.records': 'DNS records',
  'domains.check': 'Check now',
  'domains.checkLabel': 'Check now the DNS records of {domain}',
  'domains.checkQueued': 'A check of {domain} is queued; the records show its results in a few seconds.',
  'domains.show': 'Show DNS records of {domain}',
  'domains.recordsOf': 'Records to publish for {domain}',
  'domains.recordsHint': 'Publish these records at your DNS provider. Required ones count toward verification.',
  'domains.type': 'Type',
  'domains.host': 'Host',
  'domains.value': 'Value',
  'domains.recordStatus': 'Status',
  'domains.required': 'required',
  'domains.optional': 'optional',
  'domains.copy': 'Copy',
  'domains.copyLabel': 'Copy the {what} of the {type} record {host}',
  'domains.copied': 'Copied to the clipboard.',
  'domains.copyFailed': 'Copying failed: select the text and copy it by hand.',
  'domains.priority': 'priority {priority}',
  'mailbox.back': 'Back to mailboxes',
  'mailbox.general': 'Mailbox',
  'mailbox.enabled': 'Enabled',
  'mailbox.enabledHint': 'A disabled mailbox refuses logins and incoming mail.',
  'mailbox.pop3': 'POP3 settings',
  'mailbox.pop3Folders': 'Folders POP3 serves (comma separated, Inbox first)',
  'mailbox.pop3MarkRead': 'A POP3 download marks the message read',
  'mailbox.pop3Delete': 'When a POP3 client deletes a message',
  'mailbox.deleteMode.delete': 'delete it',
  'mailbox.deleteMode.keep': 'keep it on the server',
  'mailbox.deleteMode.trash': 'move it to Trash',
  'mailbox.save': 'Save',
  'mailbox.appPasswords': 'App passwords',
  'mailbox.appPasswordsHint': 'A separate password for each mail program; revoke one without changing the others.',
  'mailbox.appPasswordsEmpty': 'No app passwords yet.',
  'mailbox.appPasswordName': 'Program or device',
  'mailbox.appPasswordProtocols': 'May log in over',
  'mailbox.appPasswordCreate': 'Create app password',
  'mailbox.appPasswordShown': 'The app password for {name}, shown this once: {password}',
  'mailbox.appPasswordLastUsed': 'Last used',
  'mailbox.revoke': 'Revoke',
  'mailbox.revokeLabel': 'Revoke the app password {name}',
  'mailbox.revoked': 'App password {name} revoked.',
  ...mailboxEn,
  ...flowEn,
  ...securityEn,
  ...passkeysEn,
} as const;

export type MessageKey = keyof typeof en;
type Catalogue = Record<MessageKey, string>;

const sk: Catalogue = {
  'app.name': 'Mailroom',
  'app.skip': 'Preskočiť na obsah',
  'app.language': 'Jazyk',
  'app.signOut': 'Odhlásiť sa',
  'app.loading': 'Načítava sa…',
  'app.crashed': 'Na tejto stránke sa niečo pokazilo. Skúste ju znova načítať.',
  'app.reload': 'Znova načítať',
  'nav.main': 'Hlavná navigácia',
  'nav.mailboxes': 'Schránky',
  'nav.domains': 'Domény',
  'nav.tenant': 'Nájomca',
  'nav.notFound': 'Taká stránka neexistuje.',
  'login.title': 'Prihlásenie do Mailroomu',
  'login.email': 'E-mail',
  'login.password': 'Heslo',
  'login.submit': 'Prihlásiť sa',
  'login.busy': 'Prihlasuje sa…',
  'login.wrong': 'Nesprávny e-mail alebo heslo.',
  'login.tooMany': 'Príliš veľa neúspešných pokusov. Skúste to znova o {seconds} s.',
  'login.expired': 'Vaše prihlásenie vypršalo. Prihláste sa znova.',
  'login.signedOut': 'Ste odhlásený.',
  'error.server': 'Server nemohol odpovedať ({status}). Skúste to o chvíľu znova.',
  'error.network': 'Server je nedostupný. Skontrolujte pripojenie a skúste to znova.',
  'error.forbidden': 'Váš účet na to nemá oprávnenie.',
  'error.reference': 'Referencia: {id}',
  'error.retry': 'Skúsiť znova',
  'tenant.none': 'Tento účet nepatrí žiadnemu nájomcovi. Vyberte nájomcu, ktorého chcete spravovať.',
  'tenant.choose': 'Vyberte nájomcu',
  'tenant.empty': 'Zatiaľ tu nie sú žiadni nájomcovia.',
  'tenant.change': 'Zmeniť nájomcu',
  'mailboxes.title': 'Schránky',
  'mailboxes.search': 'Hľadať schránky',
  'mailboxes.searchHint': 'Adresa alebo meno',
  'mailboxes.empty': 'Žiadna schránka nevyhovuje.',
  'mailboxes.address': 'Adresa',
  'mailboxes.name': 'Meno',
  'mailboxes.status': 'Stav',
  'mailboxes.quota': 'Úložisko',
  'mailboxes.protocols': 'Protokoly',
  'mailboxes.quotaOf': '{used} z {quota}',
  'mailboxes.protocolSwitch': '{protocol} pre {address}',
  'mailboxes.saved': 'Uložené.',
  'mailboxes.next': 'Ďalšia strana',
  'mailboxes.previous': 'Predchádzajúca strana',
  'mailboxes.page': 'Strana {page}',
  'mailboxes.new': 'Nová schránka',
  'mailboxes.cancel': 'Zrušiť',
  'mailboxes.done': 'Hotovo',
  'mailboxes.create': 'Vytvoriť schránku',
  'mailboxes.creating': 'Vytvára sa…',
  'mailboxes.localPart': 'Meno pred @',
  'mailboxes.domain': 'Doména',
  'mailboxes.displayName': 'Zobrazované meno (nepovinné)',
  'mailboxes.password': 'Heslo (aspoň 12 znakov)',
  'mailboxes.generate': 'Vygenerovať silné heslo',
  'mailboxes.quotaMb': 'Kvóta úložiska v MB',
  'mailboxes.created': 'Schránka {address} je vytvorená.',
  'mailboxes.generated': 'Jej heslo, zobrazené iba teraz: {password}',
  'mailboxes.noDomains': 'Pred vytvorením schránok pridajte doménu.',
  'mailboxes.details': 'Podrobnosti schránky {address}',
  'status.active': 'aktívna',
  'status.disabled': 'vypnutá',
  'status.deleted': 'zmazaná',
  'status.pending': 'čaká',
  'status.verified': 'overená',
  'status.degraded': 's chybami',
  'status.suspended': 'pozastavená',
  'status.ok': 'v poriadku',
  'status.missing': 'chýba',
  'status.mismatch': 'nesprávna hodnota',
  'status.error': 'nedá sa overiť',
  'domains.title': 'Domény',
  'domains.empty': 'Tento nájomca zatiaľ nemá žiadne domény.',
  'domains.name': 'Doména',
  'domains.status': 'Stav',
  'domains.checked': 'Naposledy overené',
  'domains.never': 'nikdy',
  'domains.records': 'DNS záznamy',
  'domains.check': 'Overiť teraz',
  'domains.checkLabel': 'Overiť teraz DNS záznamy domény {domain}',
  'domains.checkQueued': 'Overenie domény {domain} je zaradené; výsledky sa v záznamoch zobrazia o niekoľko sekúnd.',
  'domains.show': 'Zobraziť DNS záznamy domény {domain}',
  'domains.recordsOf': 'Záznamy na zverejnenie pre {domain}',
  'domains.recordsHint': 'Zverejnite tieto záznamy u svojho poskytovateľa DNS. Povinné sa rátajú do overenia.',
  'domains.type': 'Typ',
  'domains.host': 'Hostiteľ',
  'domains.value': 'Hodnota',
  'domains.recordStatus': 'Stav',
  'domains.required': 'povinný',
  'domains.optional': 'nepovinný',
  'domains.copy': 'Kopírovať',
  'domains.copyLabel': 'Kopírovať {what} záznamu {type} {host}',
  'domains.copied': 'Skopírované do schránky.',
  'domains.copyFailed': 'Kopírovanie zlyhalo: označte text a skopírujte ho ručne.',
  'domains.priority': 'priorita {priority}',
  'mailbox.back': 'Späť na schránky',
  'mailbox.general': 'Schránka',
  'mailbox.enabled': 'Zapnutá',
  'mailbox.enabledHint': 'Vypnutá schránka odmieta prihlásenia aj prichádzajúcu poštu.',
  'mailbox.pop3': 'Nastavenia POP3',
  'mailbox.pop3Folders': 'Priečinky pre POP3 (oddelené čiarkou, Doručená pošta prvá)',
  'mailbox.pop3MarkRead': 'Stiahnutie cez POP3 označí správu ako prečítanú',
  'mailbox.pop3Delete': 'Keď POP3 klient správu zmaže',
  'mailbox.deleteMode.delete': 'zmazať ju',
  'mailbox.deleteMode.keep': 'ponechať ju na serveri',
  'mailbox.deleteMode.trash': 'presunúť ju do Koša',
  'mailbox.save': 'Uložiť',
  'mailbox.appPasswords': 'Heslá aplikácií',
  'mailbox.appPasswordsHint': 'Samostatné heslo pre každý poštový program; jedno zrušíte bez zmeny ostatných.',
  'mailbox.appPasswordsEmpty': 'Zatiaľ žiadne heslá aplikácií.',
  'mailbox.appPasswordName': 'Program alebo zariadenie',
  'mailbox.appPasswordProtocols': 'Môže sa prihlásiť cez',
  'mailbox.appPasswordCreate': 'Vytvoriť heslo aplikácie',
  'mailbox.appPasswordShown': 'Heslo aplikácie pre {name}, zobrazené iba teraz: {password}',
  'mailbox.appPasswordLastUsed': 'Naposledy použité',
  'mailbox.revoke': 'Zrušiť',
  'mailbox.revokeLabel': 'Zrušiť heslo aplikácie {name}',
  'mailbox.revoked': 'Heslo aplikácie {name} je zrušené.',
  ...mailboxSk,
  ...flowSk,
  ...securitySk,
  ...passkeysSk,
};

export const LANGUAGES = { en: 'English', sk: 'Slovenčina' } as const;
export type Language = keyof typeof LANGUAGES;
const CATALOGUES: Record<Language, Catalogue> = { en, sk };
const STORAGE_KEY = 'mailroom.language';

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

export function translate(language: Language, key: MessageKey, values: Record<string, string | number> = {}): string {
  return CATALOGUES[language][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}

function initialLanguage(): Language {
  const saved = safeStorage()?.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'sk') return saved;
  return navigator.language.toLowerCase().startsWith('sk') ? 'sk' : 'en';
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

interface I18n {
  language: Language;
  setLanguage(language: Language): void;
  t: Translate;
  /** Numbers and dates in the language's format. */
  formatNumber(value: number, options?: Intl.NumberFormatOptions): string;
  formatDate(iso: string): string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  const setLanguage = useCallback((next: Language) => {
    safeStorage()?.setItem(STORAGE_KEY, next);
    setLanguageState(next);
  }, []);
  const value = useMemo<I18n>(
    () => ({
      language,
      setLanguage,
      t: (key, values) => translate(language, key, values),
      formatNumber: (n, options) => new Intl.NumberFormat(language, options).format(n),
      formatDate: (iso) =>
        new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)),
    }),
    [language, setLanguage],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error('useI18n outside I18nProvider');
  return i18n;
}
