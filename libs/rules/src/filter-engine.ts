import { type MailAddress } from './address-list';
import { testNumber, testText } from './filter-match';
import { type FilterAction, type FilterCondition, type FilterRule } from './filter-schema';
import { type MessageSummary } from './message-summary';

/**
 * What to do with a message once every rule has run.
 *
 * Precedence, strongest first: reject > discard > redirect > moveTo.
 * - `reject`: the message is refused with `reject` as the text. Nothing is stored and no
 *   forward or redirect is sent (we would otherwise pass on mail while telling the sender it
 *   was not delivered). The first reject ends rule processing, as nothing after it could act.
 * - `discard`: no copy is stored; forwards and redirects from matched rules still go out.
 * - `redirect`: the message goes to the redirect addresses and no copy is stored, even when a
 *   rule also said moveTo (unlike Sieve, where an explicit fileinto would still file a copy).
 * - `moveTo`: the copy is stored in that folder. When several matched rules move the message,
 *   the last one wins and one copy is stored (Sieve would file one copy per fileinto).
 * `keep` says whether a copy is stored; `folder`, `markRead` and `flagged` describe that copy
 * and are null/false when nothing is kept. `folder` null means the inbox.
 */
export interface FilterActionPlan {
  keep: boolean;
  folder: string | null;
  markRead: boolean;
  flagged: boolean;
  /** Addresses that get a copy while the mailbox keeps its own; deduplicated, in rule order. */
  forwards: string[];
  /** Addresses the message is sent on to instead of being kept; deduplicated, in rule order. */
  redirects: string[];
  discard: boolean;
  reject: string | null;
}

export interface MatchedRule {
  /** Position of the rule in the list given to {@link evaluateFilters}. */
  index: number;
  name: string;
}

export interface FilterEvaluation {
  /** Rules whose conditions matched and whose actions were applied, in order. */
  matched: MatchedRule[];
  /** Whether a `stop` or `reject` action ran, so no later rule was looked at. */
  stopped: boolean;
  plan: FilterActionPlan;
}

// Both the address and the display name, so `from contains "Amazon"` finds `Amazon <x@y.z>`.
function addressTexts(addresses: readonly MailAddress[]): string[] {
  return addresses.flatMap((a) => (a.name ? [a.address, a.name] : [a.address]));
}

function testCondition(condition: FilterCondition, message: MessageSummary): boolean {
  switch (condition.field) {
    case 'from':
    case 'to':
    case 'cc':
      return addressTexts(message[condition.field]).some((v) => testText(condition.operator, condition.value, v));
    case 'subject':
      return testText(condition.operator, condition.value, message.subject);
    case 'header':
      return message.headers.getAll(condition.name).some((v) => testText(condition.operator, condition.value, v));
    case 'size':
      return testNumber(condition.operator, condition.value, message.size);
    case 'spamScore':
      return message.spamScore !== null && testNumber(condition.operator, condition.value, message.spamScore);
    case 'hasAttachment':
      return message.hasAttachment === condition.value;
    case 'spamVerdict':
      return message.spamVerdict === condition.value;
    case 'spf':
    case 'dkim':
    case 'dmarc':
      return message.auth[condition.field] === condition.value;
  }
}

function ruleMatches(rule: FilterRule, message: MessageSummary): boolean {
  if (rule.conditions.length === 0) {
    return true;
  }
  // `not` negates the whole test, as Sieve's `not`: `not to contains x` = no To address has x.
  const test = (c: FilterCondition) => testCondition(c, message) !== (c.not ?? false);
  return rule.matchMode === 'all' ? rule.conditions.every(test) : rule.conditions.some(test);
}

function pushUnique(list: string[], address: string): void {
  if (!list.some((a) => a.toLowerCase() === address.toLowerCase())) {
    list.push(address);
  }
}

interface Accumulator {
  folder: string | null;
  markRead: boolean;
  flagged: boolean;
  forwards: string[];
  redirects: string[];
  discard: boolean;
  reject: string | null;
  stop: boolean;
}

function apply(acc: Accumulator, action: FilterAction): void {
  switch (action.type) {
    case 'moveTo':
      acc.folder = action.folder;
      break;
    case 'markRead':
      acc.markRead = true;
      break;
    case 'flag':
      acc.flagged = true;
      break;
    case 'forward':
      pushUnique(acc.forwards, action.to);
      break;
    case 'redirect':
      pushUnique(acc.redirects, action.to);
      break;
    case 'discard':
      acc.discard = true;
      break;
    case 'reject':
      acc.reject ??= action.text;
      acc.stop = true;
      break;
    case 'stop':
      acc.stop = true;
      break;
  }
}

function toPlan(acc: Accumulator): FilterActionPlan {
  if (acc.reject !== null) {
    const none = { keep: false, folder: null, markRead: false, flagged: false, forwards: [], redirects: [] };
    return { ...none, discard: false, reject: acc.reject };
  }
  const keep = !acc.discard && acc.redirects.length === 0;
  return {
    keep,
    folder: keep ? acc.folder : null,
    markRead: keep && acc.markRead,
    flagged: keep && acc.flagged,
    forwards: acc.forwards,
    redirects: acc.redirects,
    discard: acc.discard,
    reject: null,
  };
}

/**
 * Runs a mailbox's filter rules, in order, against one message. Disabled rules are skipped.
 * A rule matches when all (`matchMode: 'all'`) or any (`'any'`) of its conditions hold; a rule
 * without conditions matches every message. A matched rule's actions all apply, then `stop`
 * or `reject` ends processing. See {@link FilterActionPlan} for how actions combine.
 *
 * Text comparisons ignore case; an address condition holds when any address, or its display
 * name, passes; a header condition when any occurrence of the field passes, so an absent header
 * never matches (and `not` makes it match). A spamScore condition never holds for an unscored
 * message. Rules are expected to have passed {@link validateFilterRule}; a stored regex that
 * fails today's checks never matches instead of running.
 */
export function evaluateFilters(rules: readonly FilterRule[], message: MessageSummary): FilterEvaluation {
  const acc: Accumulator = {
    folder: null,
    markRead: false,
    flagged: false,
    forwards: [],
    redirects: [],
    discard: false,
    reject: null,
    stop: false,
  };
  const matched: MatchedRule[] = [];
  for (const [index, rule] of rules.entries()) {
    if (!rule.enabled || !ruleMatches(rule, message)) {
      continue;
    }
    matched.push({ index, name: rule.name });
    for (const action of rule.actions) {
      apply(acc, action);
    }
    if (acc.stop) {
      break;
    }
  }
  return { matched, stopped: acc.stop, plan: toPlan(acc) };
}
