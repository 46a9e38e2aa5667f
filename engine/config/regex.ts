// Envoy compiles every safe_regex with RE2. RE2 has no lookarounds, backreferences, atomic groups
// or possessive quantifiers (it guarantees linear time), and a few escapes JavaScript knows mean
// nothing to it. This check finds those first, then compiles the pattern with JavaScript's
// RegExp (after mapping RE2-only syntax such as (?P<name>) and \A \z) to catch plain syntax
// errors. The runtime matcher can rely on patterns that pass.

export type RegexCheck = { ok: true; source: string; flags: string } | { ok: false; message: string; suggestion?: string };

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Check an RE2 pattern; on success returns an equivalent JavaScript source and flags. */
export function checkRe2(pattern: string): RegexCheck {
  let out = '';
  let flags = '';
  let inClass = false;
  let i = 0;
  const fail = (message: string, suggestion?: string): RegexCheck => ({ ok: false, message, suggestion });
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) return fail('trailing \\ at the end of the pattern');
      if (/[1-9]/.test(n) && !inClass) {
        return fail(`backreference \\${n} at position ${i}: RE2 does not support backreferences`, 'match the repeated text explicitly, or drop the backreference');
      }
      if (n === 'k' && pattern[i + 2] === '<') return fail(`named backreference at position ${i}: RE2 does not support backreferences`);
      if (n === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const literal = pattern.slice(i + 2, end < 0 ? undefined : end);
        out += literal.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      if (n === 'A' && !inClass) {
        out += '^';
        i += 2;
        continue;
      }
      if (n === 'z' && !inClass) {
        out += '$';
        i += 2;
        continue;
      }
      if ('ZGRXKhHVNgo'.includes(n)) return fail(`\\${n} at position ${i} is not supported by RE2`, n === 'Z' ? 'use \\z or $' : undefined);
      if (n === 'C') return fail(`\\C at position ${i} (any byte) is not supported here`);
      if (n === 'p' || n === 'P') {
        flags = flags.includes('u') ? flags : `${flags}u`;
        if (pattern[i + 2] !== '{') {
          out += `\\${n}{${pattern[i + 2] ?? ''}}`;
          i += 3;
          continue;
        }
      }
      out += c + n;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        const name = end > 0 ? pattern.slice(i + 2, end) : '';
        const negated = name.startsWith('^');
        const cls = POSIX_CLASSES[negated ? name.slice(1) : name];
        if (!cls) return fail(`unknown POSIX class [:${name}:] at position ${i}`);
        if (negated) return fail(`negated POSIX class [:${name}:] inside a class is not supported here`);
        out += cls;
        i = end + 2;
        continue;
      }
      if (c === ']') inClass = false;
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      if (pattern[i] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith('=') || rest.startsWith('!')) return fail(`lookahead (?${rest[0]}…) at position ${i}: RE2 does not support lookarounds`, 'rewrite without lookahead, or match with two routes/matchers');
      if (rest.startsWith('<=') || rest.startsWith('<!')) return fail(`lookbehind (?${rest.slice(0, 2)}…) at position ${i}: RE2 does not support lookarounds`);
      if (rest.startsWith('>')) return fail(`atomic group (?>…) at position ${i}: RE2 does not support it`);
      if (rest.startsWith('|')) return fail(`branch reset (?|…) at position ${i}: RE2 does not support it`);
      if (rest.startsWith('#')) return fail(`comment group (?#…) at position ${i}: RE2 does not support it`);
      if (rest.startsWith('P=') || rest.startsWith('P>')) return fail(`named backreference at position ${i}: RE2 does not support backreferences`);
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 4;
        continue;
      }
      if (rest.startsWith('<')) {
        out += '(?<';
        i += 3;
        continue;
      }
      const fm = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
      if (fm) {
        if (fm[3] === ')') {
          // (?i) etc. applies to the rest of the pattern: approximate with global flags.
          for (const f of fm[1]) if ((f === 'i' || f === 's' || f === 'm') && !flags.includes(f)) flags += f;
          i += 2 + fm[0].length;
          continue;
        }
        out += '(?:';
        i += 2 + fm[0].length;
        continue;
      }
      if (!rest.startsWith(':')) return fail(`unknown group syntax (?${rest.slice(0, 2)} at position ${i}`);
    }
    if ((c === '*' || c === '+' || c === '?' || c === '}') && pattern[i + 1] === '+') {
      return fail(`possessive quantifier ${c}+ at position ${i}: RE2 does not support it`, `use ${c} alone`);
    }
    if (c === '{') {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(pattern.slice(i));
      if (m && (Number(m[1]) > 1000 || (m[2] && Number(m[2]) > 1000))) return fail(`repetition count above 1000 at position ${i}: RE2 rejects it`);
    }
    out += c;
    i++;
  }
  try {
    new RegExp(out, flags);
  } catch (e) {
    return fail(`invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '')}`);
  }
  return { ok: true, source: out, flags };
}
