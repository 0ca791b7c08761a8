import { describe, expect, it } from 'vitest';
import { generatePassword, passwordProblem } from './password-policy';

describe('passwordProblem', () => {
  it.each([
    ['correct horse battery', 'alice', null],
    ['short', 'alice', 'must be at least 12 characters'],
    ['P@ssw0rd2024!!', 'alice', 'is a commonly used password; choose another'],
    ['Welcome123456', 'alice', 'is a commonly used password; choose another'],
    ['qwertyuiopas', 'alice', 'is a keyboard or alphabet sequence; choose another'],
    ['abababababab', 'alice', 'must contain at least 5 different characters'],
    ['Alice-in-wonderland', 'alice', 'must not contain the mailbox name'],
    ['x'.repeat(257), 'alice', 'must be at most 256 characters'],
  ])('%j for %s: %s', (password, local, problem) => {
    expect(passwordProblem(password, local)).toBe(problem);
  });

  it('generates passwords that pass, differently each time', () => {
    const a = generatePassword();
    expect(passwordProblem(a, '')).toBeNull();
    expect(a).not.toBe(generatePassword());
  });
});
