// Monaco for the config editor: the editor core and the few contributions it uses (not all of
// monaco-editor, which would triple the bundle), the YAML language, monaco-yaml with the engine's
// Envoy JSON Schema, the workers, and themes that follow the OS like the rest of the console.
// Loaded lazily (only the Config screen imports it), once per page.
//
// Two traps (../shared/reference/toolchain.md): monaco-yaml 5.5 still calls the old
// createWebWorker({label, moduleId, createData}) that monaco-editor 0.55+ dropped, so we hand it
// a wrapper that starts the worker itself; and the model's URI must match the schema's fileMatch.

import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/features/bracketMatching/register.js';
import 'monaco-editor/features/clipboard/register.js';
import 'monaco-editor/features/codicon/register.js';
import 'monaco-editor/features/comment/register.js';
import 'monaco-editor/features/contextmenu/register.js';
import 'monaco-editor/features/cursorUndo/register.js';
import 'monaco-editor/features/diffEditor/register.js';
import 'monaco-editor/features/find/register.js';
import 'monaco-editor/features/folding/register.js';
import 'monaco-editor/features/format/register.js';
import 'monaco-editor/features/gotoError/register.js';
import 'monaco-editor/features/gotoLine/register.js';
import 'monaco-editor/features/hover/register.js';
import 'monaco-editor/features/indentation/register.js';
import 'monaco-editor/features/linesOperations/register.js';
import 'monaco-editor/features/multicursor/register.js';
import 'monaco-editor/features/snippet/register.js';
// features/suggest only registers inline suggestions; the completion list is the SuggestController.
import 'monaco-editor/editor/contrib/suggest/browser/suggestController.js';
import 'monaco-editor/editor/browser/coreCommands.js';
import 'monaco-editor/editor/contrib/gotoError/browser/markerSelectionStatus.js';
import 'monaco-editor/editor/common/standaloneStrings.js';
import 'monaco-editor/esm/vs/base/browser/ui/codicons/codicon/codicon-modifiers.css'; // not in the exports map (it appends .js)
import 'monaco-editor/features/wordHighlighter/register.js';
import 'monaco-editor/features/wordOperations/register.js';
import 'monaco-editor/languages/definitions/yaml/register.js';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { configureMonacoYaml, type JSONSchema } from 'monaco-yaml';
import YamlWorker from './yaml.worker?worker';

export { monaco };

/** The edited config's model. Its URI is what the schema's fileMatch names. */
export const EDIT_URI = monaco.Uri.parse('file:///meshdeck/envoy.yaml');
/** The running config, for the diff (no schema: it only needs colours). */
export const RUNNING_URI = monaco.Uri.parse('file:///meshdeck/running/envoy.running.yaml');
const FILE_MATCH = ['**/meshdeck/envoy.yaml'];

type Env = { getWorker(moduleId: string, label: string): Worker };

function installWorkers(): void {
  (self as unknown as { MonacoEnvironment: Env }).MonacoEnvironment = {
    getWorker: (_moduleId, label) => (label === 'yaml' ? new YamlWorker({ name: 'yaml' }) : new EditorWorker({ name: label })),
  };
}

interface LegacyWorkerOptions {
  label?: string;
  moduleId?: string;
  createData?: unknown;
  host?: Record<string, (...args: unknown[]) => unknown>;
  keepIdleModels?: boolean;
  worker?: Worker | Promise<Worker>;
}

/**
 * monaco.editor.createWebWorker accepting monaco-yaml's old options: the worker comes from
 * MonacoEnvironment.getWorker, then gets what monaco-worker-manager's worker side expects (one
 * message that arms it, then the createData), and Monaco's own client takes it from there.
 */
function legacyCreateWebWorker(opts: LegacyWorkerOptions): ReturnType<typeof monaco.editor.createWebWorker> {
  if (opts.worker) return monaco.editor.createWebWorker(opts as Parameters<typeof monaco.editor.createWebWorker>[0]);
  const env = (self as unknown as { MonacoEnvironment: Env }).MonacoEnvironment;
  const worker = env.getWorker(opts.moduleId ?? '', opts.label ?? '');
  worker.postMessage('ignore');
  worker.postMessage(opts.createData);
  return monaco.editor.createWebWorker({ worker, host: opts.host as Record<string, () => unknown> | undefined, keepIdleModels: opts.keepIdleModels });
}

const DARK = '(prefers-color-scheme: dark)';

function defineThemes(): void {
  // The console's panel colours (styles.css), so the editor sits in the page like any other panel.
  monaco.editor.defineTheme('meshdeck-light', {
    base: 'vs',
    inherit: true,
    rules: [],
    colors: { 'editor.background': '#ffffff', 'editorGutter.background': '#f6f7f9', 'editorLineNumber.foreground': '#8a93a5' },
  });
  monaco.editor.defineTheme('meshdeck-dark', {
    base: 'vs-dark',
    inherit: true,
    rules: [],
    colors: { 'editor.background': '#171c25', 'editorGutter.background': '#131821', 'editorLineNumber.foreground': '#5d6678' },
  });
}

export function currentTheme(): string {
  return window.matchMedia(DARK).matches ? 'meshdeck-dark' : 'meshdeck-light';
}

let setupDone = false;

/** Workers, themes and the YAML language with the Envoy schema. Once per page. */
export function setupMonaco(schema: Record<string, unknown>, schemaUrl: string): void {
  if (setupDone) return;
  setupDone = true;
  installWorkers();
  defineThemes();
  monaco.editor.setTheme(currentTheme());
  window.matchMedia(DARK).addEventListener('change', () => monaco.editor.setTheme(currentTheme()));
  const patched = { ...monaco, editor: { ...monaco.editor, createWebWorker: legacyCreateWebWorker } } as unknown as Parameters<typeof configureMonacoYaml>[0];
  configureMonacoYaml(patched, {
    enableSchemaRequest: false,
    hover: true,
    completion: true,
    validate: true,
    format: { enable: true },
    schemas: [{ uri: schemaUrl, fileMatch: FILE_MATCH, schema: schema as JSONSchema }],
  });
}
