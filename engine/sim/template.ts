// JSON templates for mock responses and generated requests. A template is any JSON value whose
// strings may hold placeholders, `{{name arg …}}`. A string that is exactly one placeholder
// yields the placeholder's value with its type (`amount: "{{request.amount}}"` stays a number);
// otherwise placeholders are interpolated as text. Templates are compiled once, when the scenario
// loads; an unknown placeholder is an error located at its string.

import type { Rng } from './rng';

export type TemplateSide = 'request' | 'response';

/** Payment ids the generator created, so that captures, refunds and status calls name real ones. */
export class PaymentRefs {
  private readonly ids: string[] = [];
  private next = 0;
  constructor(private readonly size = 2048) {}
  add(id: string): void {
    if (this.ids.length < this.size) this.ids.push(id);
    else this.ids[this.next++ % this.size] = id;
  }
  pick(rng: Rng): string | undefined {
    return this.ids.length ? this.ids[Math.floor(rng.next() * this.ids.length)] : undefined;
  }
}

export interface TemplateContext {
  rng: Rng;
  /** Sequence number of the request (generator) or of the instance's answer (mock). */
  seq: number;
  // Response side
  service?: string;
  instance?: number;
  method?: string;
  path?: string;
  headers?: Record<string, string | string[] | undefined>;
  /** The parsed JSON request body (undefined when none or not JSON). */
  body?: unknown;
  // Request side
  refs?: PaymentRefs;
}

export interface CompiledTemplate {
  render(ctx: TemplateContext): unknown;
  /** Whether any placeholder reads the request body (the mock parses it only then). */
  readonly needsBody: boolean;
}

export type TemplateError = { path: Array<string | number>; message: string };

type Eval = (ctx: TemplateContext) => unknown;

const CURRENCIES: Array<[string, number]> = [
  ['EUR', 38],
  ['USD', 32],
  ['GBP', 14],
  ['SEK', 4],
  ['CHF', 4],
  ['PLN', 4],
  ['JPY', 4],
];
const CURRENCY_TOTAL = CURRENCIES.reduce((s, [, w]) => s + w, 0);
/** Real BIN ranges of the schemes' test cards (Visa, Mastercard, Amex, Discover, JCB). */
const CARD_BINS = ['411111', '424242', '400005', '453201', '555555', '510510', '222300', '520082', '378282', '371449', '601111', '353011'];

interface FnSpec {
  side: TemplateSide | 'both';
  args: [number, number];
  make(args: string[]): Eval;
  usesBody?: boolean;
}

const num = (s: string, what: string): number => {
  const n = Number(s);
  if (!Number.isFinite(n)) throw new Error(`${what} must be a number, not "${s}"`);
  return n;
};

const FUNCTIONS: Record<string, FnSpec> = {
  uuid: { side: 'both', args: [0, 0], make: () => (c) => c.rng.uuid() },
  id: {
    side: 'both',
    args: [0, 2],
    make: ([prefix = '', len = '24']) => {
      const n = num(len, 'id length');
      return (c) => `${prefix}${c.rng.base36(n)}`;
    },
  },
  int: {
    side: 'both',
    args: [2, 2],
    make: ([a, b]) => {
      const lo = num(a, 'int MIN');
      const hi = num(b, 'int MAX');
      return (c) => c.rng.int(lo, hi);
    },
  },
  pick: { side: 'both', args: [1, 64], make: (items) => (c) => c.rng.pick(items) },
  now: { side: 'both', args: [0, 0], make: () => () => new Date().toISOString() },
  epoch_ms: { side: 'both', args: [0, 0], make: () => () => Date.now() },
  seq: { side: 'both', args: [0, 0], make: () => (c) => c.seq },
  amount: {
    side: 'request',
    args: [2, 2],
    make: ([a, b]) => {
      const lo = Math.max(1, num(a, 'amount MIN'));
      const hi = num(b, 'amount MAX');
      const [lnLo, lnHi] = [Math.log(lo), Math.log(Math.max(hi, lo))];
      // Log-uniform (small baskets are common, large ones rare), then priced like a shop does.
      return (c) => {
        const v = Math.exp(lnLo + c.rng.next() * (lnHi - lnLo));
        const style = c.rng.next();
        const r = style < 0.4 ? Math.round(v / 100) * 100 : style < 0.7 ? Math.round(v / 100) * 100 - 1 : Math.round(v);
        return Math.min(hi, Math.max(lo, r));
      };
    },
  },
  currency: {
    side: 'request',
    args: [0, 0],
    make: () => (c) => {
      let u = c.rng.next() * CURRENCY_TOTAL;
      for (const [code, w] of CURRENCIES) if ((u -= w) < 0) return code;
      return 'EUR';
    },
  },
  card_bin: { side: 'request', args: [0, 0], make: () => (c) => c.rng.pick(CARD_BINS) },
  last4: { side: 'request', args: [0, 0], make: () => (c) => String(c.rng.int(0, 9999)).padStart(4, '0') },
  new_payment_id: {
    side: 'request',
    args: [0, 1],
    make: ([prefix = 'pay_']) => (c) => {
      const id = `${prefix}${c.rng.base36(14)}`;
      c.refs?.add(id);
      return id;
    },
  },
  payment_id: { side: 'request', args: [0, 0], make: () => (c) => c.refs?.pick(c.rng) ?? `pay_${c.rng.base36(14)}` },
  header: {
    side: 'response',
    args: [1, 1],
    make: ([name]) => {
      const key = name.toLowerCase();
      return (c) => {
        const v = c.headers?.[key];
        return Array.isArray(v) ? v[0] : (v ?? null);
      };
    },
  },
  path: {
    side: 'response',
    args: [1, 1],
    make: ([i]) => {
      const n = num(i, 'path segment index');
      return (c) => (c.path ?? '').split('?')[0].split('/')[n] ?? null;
    },
  },
  method: { side: 'response', args: [0, 0], make: () => (c) => c.method ?? null },
  service: { side: 'response', args: [0, 0], make: () => (c) => c.service ?? null },
  instance: { side: 'response', args: [0, 0], make: () => (c) => c.instance ?? null },
};

export const TEMPLATE_FUNCTIONS: readonly string[] = Object.keys(FUNCTIONS);

const PLACEHOLDER = /\{\{(.*?)\}\}/g;

/** Compiles a template; problems go to `errors` (with their path inside the template), and their placeholders render as null. */
export function compileTemplate(value: unknown, side: TemplateSide, errors: TemplateError[] = []): CompiledTemplate {
  let needsBody = false;
  const walk = (v: unknown, path: Array<string | number>): Eval => {
    if (typeof v === 'string') return compileString(v, path);
    if (Array.isArray(v)) {
      const items = v.map((x, i) => walk(x, [...path, i]));
      return (c) => items.map((f) => f(c));
    }
    if (v && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])] as const);
      return (c) => {
        const out: Record<string, unknown> = {};
        for (const [k, f] of entries) out[k] = f(c);
        return out;
      };
    }
    return () => v;
  };
  const compileString = (s: string, path: Array<string | number>): Eval => {
    const parts: Array<string | Eval> = [];
    let last = 0;
    for (const m of s.matchAll(PLACEHOLDER)) {
      if (m.index! > last) parts.push(s.slice(last, m.index));
      parts.push(compilePlaceholder(m[1], path));
      last = m.index! + m[0].length;
    }
    if (last < s.length) parts.push(s.slice(last));
    if (parts.length === 0) return () => '';
    if (parts.length === 1) {
      const only = parts[0];
      return typeof only === 'string' ? () => only : only;
    }
    return (c) => {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') out += p;
        else {
          const x = p(c);
          out += x === null || x === undefined ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x);
        }
      }
      return out;
    };
  };
  const compilePlaceholder = (inner: string, path: Array<string | number>): Eval => {
    const words = inner.trim().split(/\s+/).filter(Boolean);
    const name = words[0] ?? '';
    const args = words.slice(1);
    const fail = (message: string): Eval => {
      errors.push({ path, message });
      return () => null;
    };
    if (name.startsWith('request.') || name === 'request') {
      if (side !== 'response') return fail(`{{${name}}} reads the request body: it belongs in a mock's response, not in a generated request`);
      needsBody = true;
      const keys = name.split('.').slice(1);
      return (c) => {
        let x: unknown = c.body;
        for (const k of keys) {
          if (x === null || typeof x !== 'object') return null;
          x = (x as Record<string, unknown>)[k];
        }
        return x === undefined ? null : x;
      };
    }
    const spec = FUNCTIONS[name];
    if (!spec) {
      const known = TEMPLATE_FUNCTIONS.filter((f) => FUNCTIONS[f].side === side || FUNCTIONS[f].side === 'both');
      return fail(`unknown placeholder {{${inner.trim()}}}: use one of ${known.join(', ')}${side === 'response' ? ', request.FIELD' : ''}`);
    }
    if (spec.side !== 'both' && spec.side !== side) {
      return fail(`{{${name}}} is for ${spec.side === 'request' ? 'generated requests' : "mock responses"}, not ${side === 'request' ? 'generated requests' : 'mock responses'}`);
    }
    const [min, max] = spec.args;
    if (args.length < min || args.length > max) {
      return fail(`{{${name}}} takes ${min === max ? min : `${min} to ${max}`} argument(s), not ${args.length}`);
    }
    try {
      return spec.make(args);
    } catch (e) {
      return fail(`{{${inner.trim()}}}: ${(e as Error).message}`);
    }
  };
  const render = walk(value, []);
  return { render, needsBody };
}
