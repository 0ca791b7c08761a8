/** A header value with its RFC 5322 comments (nested parentheses) replaced by spaces. */
export function stripComments(value: string): string {
  let previous: string;
  let current = value;
  do {
    previous = current;
    current = current.replace(/\([^()]*\)/g, ' ');
  } while (current !== previous);
  return current;
}
