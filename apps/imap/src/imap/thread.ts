import type { ThreadMessage } from './imap-store';

/** A thread tree: `msg` null is a dummy (a missing parent, or subjects merged under one). */
export interface ThreadNode {
  msg: ThreadMessage | null;
  parent: ThreadNode | null;
  children: ThreadNode[];
}

const node = (msg: ThreadMessage | null): ThreadNode => ({ msg, parent: null, children: [] });

/**
 * RFC 5256 ORDEREDSUBJECT: messages sorted by base subject, then sent date; each run of one
 * subject is a thread whose first message is the parent of the others. Threads by the sent date
 * of their first message. Messages come in sequence order (ascending uid), which breaks ties.
 */
export function threadOrderedSubject(messages: ThreadMessage[]): ThreadNode[] {
  const sorted = [...messages].sort((a, b) => compareBytes(a.baseSubject, b.baseSubject) || byDate(a, b));
  const roots: ThreadNode[] = [];
  let current: ThreadNode | null = null;
  for (const msg of sorted) {
    if (current && current.msg!.baseSubject === msg.baseSubject) {
      const child = node(msg);
      child.parent = current;
      current.children.push(child);
    } else {
      current = node(msg);
      roots.push(current);
    }
  }
  return roots.sort(byNodeDate);
}

/** RFC 5256 REFERENCES: the five steps of section 3, on messages in sequence order. */
export function threadReferences(messages: ThreadMessage[]): ThreadNode[] {
  const containers = linkReferences(messages);
  let roots = prune([...containers.values()].filter((c) => c.parent === null));
  for (const root of roots) sortTree(root.children);
  roots.sort(byNodeDate);
  roots = mergeSubjects(roots);
  sortTree(roots);
  return roots;
}

/** Step 1: a container per message id, linked along References (or In-Reply-To). */
function linkReferences(messages: ThreadMessage[]): Map<string, ThreadNode> {
  const byId = new Map<string, ThreadNode>();
  const container = (id: string): ThreadNode => {
    let c = byId.get(id);
    if (!c) byId.set(id, (c = node(null)));
    return c;
  };
  for (const msg of messages) {
    // A missing id, or one an earlier message already has, gets an id of its own (step 1.B).
    let id = msg.messageId;
    if (id === null || byId.get(id)?.msg) id = `\0${msg.uid}`;
    const self = container(id);
    self.msg = msg;
    let last: ThreadNode | null = null;
    for (const ref of msg.references) {
      const c = container(ref);
      // (1.A) Link each reference to the one before it, unless it has a parent or that loops.
      if (last && c.parent === null && !isAncestor(c, last)) attach(last, c);
      last = c;
    }
    // (1.B) The last reference is the parent, replacing whatever link the message had.
    if (self.parent) detach(self);
    if (last && !isAncestor(self, last)) attach(last, self);
  }
  return byId;
}

/** Whether `a` is `b` or one of its ancestors. */
function isAncestor(a: ThreadNode, b: ThreadNode): boolean {
  for (let n: ThreadNode | null = b; n; n = n.parent) if (n === a) return true;
  return false;
}

function attach(parent: ThreadNode, child: ThreadNode): void {
  child.parent = parent;
  parent.children.push(child);
}

function detach(child: ThreadNode): void {
  const siblings = child.parent!.children;
  siblings.splice(siblings.indexOf(child), 1);
  child.parent = null;
}

/**
 * Step 3: dummies without children go; a dummy's children take its place, except at the top,
 * where a dummy stays unless it has a single child. Children before parents, without recursion
 * (a reply chain may be thousands deep).
 */
function prune(roots: ThreadNode[]): ThreadNode[] {
  const order: ThreadNode[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop()!;
    order.push(n);
    for (const c of n.children) stack.push(c);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    n.children = n.children.flatMap((c) => (c.msg !== null ? [c] : c.children));
    for (const c of n.children) c.parent = n;
  }
  const out = roots.flatMap((r) => (r.msg !== null || r.children.length > 1 ? [r] : r.children));
  for (const r of out) r.parent = null;
  return out;
}

/** Step 5: top-level threads with the same base subject are gathered under one. */
function mergeSubjects(roots: ThreadNode[]): ThreadNode[] {
  const table = new Map<string, ThreadNode>();
  for (const r of roots) {
    const subject = threadSubject(r);
    if (subject === '') continue;
    const held = table.get(subject);
    if (!held || (held.msg !== null && (r.msg === null || (held.msg.isReply && !r.msg.isReply)))) {
      table.set(subject, r);
    }
  }
  const out = [...roots];
  for (const r of roots) {
    const subject = threadSubject(r);
    const held = subject === '' ? undefined : table.get(subject);
    if (!held || held === r) continue;
    out.splice(out.indexOf(r), 1);
    if (held.msg === null && r.msg === null) {
      for (const c of r.children) attach(held, c);
    } else if (held.msg === null || (r.msg!.isReply && !held.msg.isReply)) {
      attach(held, r);
    } else {
      const dummy = node(null);
      out.splice(out.indexOf(held), 1, dummy);
      attach(dummy, held);
      attach(dummy, r);
      table.set(subject, dummy);
    }
  }
  return out;
}

function threadSubject(n: ThreadNode): string {
  return (n.msg ?? n.children[0]?.msg)?.baseSubject ?? '';
}

/** Step 6: every set of siblings by sent date, the deepest first. */
function sortTree(nodes: ThreadNode[]): void {
  const stack: ThreadNode[][] = [nodes];
  const order: ThreadNode[][] = [];
  while (stack.length > 0) {
    const list = stack.pop()!;
    order.push(list);
    for (const n of list) if (n.children.length > 0) stack.push(n.children);
  }
  for (let i = order.length - 1; i >= 0; i--) order[i]!.sort(byNodeDate);
}

/** A dummy sorts as its first child (its children are sorted before it is). */
function representative(n: ThreadNode): ThreadMessage {
  let c = n;
  while (c.msg === null) c = c.children[0]!;
  return c.msg;
}

function byNodeDate(a: ThreadNode, b: ThreadNode): number {
  return byDate(representative(a), representative(b));
}

function byDate(a: ThreadMessage, b: ThreadMessage): number {
  return a.sentAt.getTime() - b.sentAt.getTime() || a.uid - b.uid;
}

/** Code point (UTF-8 byte) order, as the store's COLLATE "C" compares. */
export function compareBytes(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The thread-list of RFC 5256 section 4: `(1 2 (3)(4 5))`. `num` gives the sequence number or
 * uid of a message. Written with an explicit stack: a crafted References web can nest deeply.
 */
export function formatThreads(roots: ThreadNode[], num: (m: ThreadMessage) => number): string {
  let out = '';
  const stack: Array<ThreadNode | string> = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push(')', roots[i]!, '(');
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out += item;
      continue;
    }
    // A chain of only children is one list of numbers; more children nest, each in parentheses.
    const parts: string[] = [];
    let n = item;
    for (;;) {
      if (n.msg) parts.push(String(num(n.msg)));
      if (n.children.length !== 1) break;
      n = n.children[0]!;
    }
    out += parts.join(' ');
    if (n.children.length > 0 && parts.length > 0) out += ' ';
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(')', n.children[i]!, '(');
  }
  return out;
}
