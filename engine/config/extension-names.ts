// Envoy names every extension (`envoy.filters.http.router`, `envoy.access_loggers.file`, ...) in
// its protos with a `[#extension: <name>]` doc tag placed before the extension's config message.
// This index maps those names to config message names and back, so that an extension given by
// name only (no typed_config, as Envoy allows) can be checked, and a misspelt name corrected.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { protoDirs } from './protos';

export interface ExtensionNameIndex {
  /** Extension name → full name of its config message. */
  byName: ReadonlyMap<string, string>;
  /** Config message full name → extension names (a message may serve several, e.g. stdout/stderr). */
  byType: ReadonlyMap<string, readonly string[]>;
}

let cache: ExtensionNameIndex | undefined;

export function extensionNames(): ExtensionNameIndex {
  if (cache) return cache;
  const byName = new Map<string, string>();
  const byType = new Map<string, string[]>();
  for (const { root, file } of protoDirs().files) {
    let text: string;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      continue;
    }
    for (const [name, message] of scanFile(text)) {
      if (byName.has(name)) continue;
      byName.set(name, message);
      const list = byType.get(message) ?? [];
      list.push(name);
      byType.set(message, list);
    }
  }
  cache = { byName, byType };
  return cache;
}

/** Per-route and wrapper messages that share a file with the config message they wrap. */
const NOT_THE_CONFIG = /(PerRoute|PerRouteConfig)$|^EnvoyMobile/;

/**
 * The config message of each `[#extension: X]` tag in one file: the first top-level message after
 * the tag that no other message of the file uses as a field type (so `HTTPFault`, not its
 * `FaultAbort` part; `JwtAuthentication`, not `JwtProvider`), ignoring per-route and wrapper
 * messages (`RBACPerRoute` holds an `RBAC`, which is still the filter's config).
 */
export function scanFile(text: string): [string, string][] {
  const pkg = /^package\s+([\w.]+)\s*;/m.exec(text)?.[1];
  if (!pkg) return [];
  const messages: { name: string; start: number; end: number }[] = [];
  const msgRe = /^message\s+(\w+)/gm;
  for (let m = msgRe.exec(text); m; m = msgRe.exec(text)) {
    const close = /^\}/m.exec(text.slice(m.index));
    messages.push({ name: m[1], start: m.index, end: close ? m.index + close.index : text.length });
  }
  const users = messages.filter((m) => !NOT_THE_CONFIG.test(m.name));
  const used = (name: string): boolean => {
    const re = new RegExp(`(^|[\\s<,(])${name}\\s*>?\\s+\\w+\\s*=`, 'm');
    return users.some((u) => u.name !== name && re.test(text.slice(u.start, u.end)));
  };
  const out: [string, string][] = [];
  const tagRe = /\[#extension:\s*([\w.\-]+)\s*\]/g;
  for (let t = tagRe.exec(text); t; t = tagRe.exec(text)) {
    const at = t.index;
    if (messages.some((m) => m.start < at && at < m.end)) continue; // a mention inside a message's docs
    const after = messages.filter((m) => m.start > at && !NOT_THE_CONFIG.test(m.name));
    const pick = after.find((m) => !used(m.name)) ?? after[0];
    if (pick) out.push([t[1], `${pkg}.${pick.name}`]);
  }
  return out;
}
