// The config editor: Monaco over the running Envoy YAML (the Envoy schema gives completion, hover
// docs and markers as you type; the engine's own validation adds its errors and "not run by
// Meshdeck" warnings with its suggestions), a diff against the running config, Apply (hot
// reload, against the version the edits started from), open and save (Electron's dialogs, or
// upload and download), and a notice when the running config changes underneath the edits.
// Loaded lazily by ConfigScreen: Monaco is most of the console's bytes.

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState, type ChangeEvent } from 'react';
import type { ApplyResponse, ConfigResponse, Diagnostic, ValidateResponse } from '../../../../engine/admin/contract';
import { api, ApiRequestError } from '../../api/client';
import { clusterKeys, configKeys } from '../../api/keys';
import { baseName, downloadText, nativeBridge, onMenuCommand } from '../../api/native';
import { configQuery } from '../../api/queries';
import { mergeEdits, syncWithRunning, type Running } from './draft';
import { countText, diagnosticToMarker, ENGINE_OWNER } from './markers';
import { currentTheme, EDIT_URI, monaco, RUNNING_URI, setupMonaco } from './monaco';

type Editor = monaco.editor.IStandaloneCodeEditor;
type DiffEditor = monaco.editor.IStandaloneDiffEditor;

/** How long typing must pause before the engine validates the text. */
const VALIDATE_DEBOUNCE_MS = 300;
const mod = /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';

/**
 * The draft outlives the screen: switching to the dashboard and back keeps unsaved edits, their
 * undo history and the version they started from.
 */
interface Draft {
  model: monaco.editor.ITextModel;
  running: monaco.editor.ITextModel;
  base: Running;
  /** Where the text was opened from or saved to. */
  file: { name: string; path?: string } | null;
}
let draft: Draft | undefined;

function ensureDraft(cfg: ConfigResponse): Draft {
  if (!draft) {
    const model = monaco.editor.getModel(EDIT_URI) ?? monaco.editor.createModel(cfg.yaml, 'yaml', EDIT_URI);
    const running = monaco.editor.getModel(RUNNING_URI) ?? monaco.editor.createModel(cfg.yaml, 'yaml', RUNNING_URI);
    model.updateOptions({ tabSize: 2, insertSpaces: true });
    draft = { model, running, base: { version: cfg.version, yaml: cfg.yaml }, file: null };
  }
  return draft;
}

/** Replaces the model's text with the smallest edit (kept in undo; the cursor stays where it was). */
function replaceText(model: monaco.editor.ITextModel, text: string): void {
  const old = model.getValue();
  if (old === text) return;
  let head = 0;
  const max = Math.min(old.length, text.length);
  while (head < max && old.charCodeAt(head) === text.charCodeAt(head)) head++;
  let tail = 0;
  while (tail < max - head && old.charCodeAt(old.length - 1 - tail) === text.charCodeAt(text.length - 1 - tail)) tail++;
  const start = model.getPositionAt(head);
  const end = model.getPositionAt(old.length - tail);
  model.pushStackElement();
  model.pushEditOperations([], [{ range: new monaco.Range(start.lineNumber, start.column, end.lineNumber, end.column), text: text.slice(head, text.length - tail) }], () => null);
  model.pushStackElement();
}

type Outcome =
  | { kind: 'applied'; version: number; warnings: number }
  | { kind: 'refused'; errors: number; running: number }
  | { kind: 'conflict'; message: string }
  | { kind: 'error'; message: string }
  | { kind: 'info'; message: string };

interface Problem {
  owner: string;
  severity: number;
  message: string;
  line: number;
  column: number;
  code: string;
}

function problemsOf(model: monaco.editor.ITextModel): Problem[] {
  return monaco.editor
    .getModelMarkers({ resource: model.uri })
    .map((m) => ({
      owner: m.owner,
      severity: m.severity,
      message: m.message,
      line: m.startLineNumber,
      column: m.startColumn,
      code: typeof m.code === 'string' ? m.code : (m.code?.value ?? ''),
    }))
    .sort((a, b) => a.line - b.line || b.severity - a.severity || a.column - b.column);
}

performance.mark('meshdeck:editor-module');

export default function ConfigEditor({ schema, schemaUrl }: { schema: Record<string, unknown>; schemaUrl: string }) {
  useState(() => setupMonaco(schema, schemaUrl));
  const qc = useQueryClient();
  // The event stream invalidates the config on every change; the poll covers a stream that is down.
  const config = useQuery({ ...configQuery(), refetchInterval: 10_000 });
  const hostRef = useRef<HTMLDivElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const editorRef = useRef<Editor | DiffEditor | null>(null);
  const [mode, setMode] = useState<'edit' | 'diff'>('edit');
  const [dirty, setDirty] = useState(false);
  const [engineDiags, setEngineDiags] = useState<Diagnostic[] | null>(null);
  const [validating, setValidating] = useState(false);
  const [validateError, setValidateError] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  /** The running config changed under unsaved edits; `mergeable`: the two change different lines. */
  const [underneath, setUnderneath] = useState<(Running & { mergeable: boolean }) | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [applying, setApplying] = useState(false);
  const [fileLabel, setFileLabel] = useState<string | null>(draft?.file?.name ?? null);
  const seq = useRef(0);

  const d = config.data ? ensureDraft(config.data) : undefined;

  const refreshDirty = useCallback(() => {
    if (draft) setDirty(draft.model.getValue() !== draft.base.yaml);
  }, []);

  // ---- engine validation, debounced as the user types
  const validate = useCallback(async () => {
    if (!draft) return;
    const my = ++seq.current;
    setValidating(true);
    try {
      const r = await api.post<ValidateResponse>('/config/validate', { yaml: draft.model.getValue() });
      if (my !== seq.current) return;
      setEngineDiags(r.diagnostics);
      setValidateError(null);
    } catch (e) {
      if (my !== seq.current) return;
      setValidateError(e instanceof Error ? e.message : String(e));
    } finally {
      if (my === seq.current) setValidating(false);
    }
  }, []);

  useEffect(() => {
    if (!d) return;
    const model = d.model;
    monaco.editor.setModelMarkers(model, ENGINE_OWNER, (engineDiags ?? []).map((x) => diagnosticToMarker(x, model.getLinesContent())));
  }, [engineDiags, d]);

  useEffect(() => {
    if (!d) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sub = d.model.onDidChangeContent(() => {
      refreshDirty();
      clearTimeout(timer);
      timer = setTimeout(() => void validate(), VALIDATE_DEBOUNCE_MS);
    });
    const markers = monaco.editor.onDidChangeMarkers((uris) => {
      if (uris.some((u) => u.toString() === d.model.uri.toString())) setProblems(problemsOf(d.model));
    });
    setProblems(problemsOf(d.model));
    refreshDirty();
    void validate();
    return () => {
      clearTimeout(timer);
      sub.dispose();
      markers.dispose();
    };
  }, [d, validate, refreshDirty]);

  // ---- the running config changed (Weights screen, another console, a reload)
  useEffect(() => {
    const cfg = config.data;
    if (!cfg || !draft) return;
    if (draft.running.getValue() !== cfg.yaml) draft.running.setValue(cfg.yaml);
    const act = syncWithRunning(draft.base, draft.model.getValue(), cfg);
    if (act.kind === 'take') {
      const took = draft.model.getValue() !== cfg.yaml;
      replaceText(draft.model, cfg.yaml);
      draft.base = { version: cfg.version, yaml: cfg.yaml };
      setUnderneath(null);
      refreshDirty();
      if (took) setOutcome({ kind: 'info', message: `The running config changed elsewhere (now version ${cfg.version}); the editor shows it.` });
    } else if (act.kind === 'notify') {
      setUnderneath({ ...act.running, mergeable: mergeEdits(draft.base.yaml, draft.model.getValue(), act.running.yaml) !== null });
      setOutcome((o) => (o?.kind === 'info' ? null : o));
    }
  }, [config.data, refreshDirty]);

  // ---- actions (the editor's commands call them through refs, so they always see fresh state)
  const apply = async () => {
    if (!draft || applying) return;
    const text = draft.model.getValue();
    setApplying(true);
    setOutcome(null);
    try {
      const r = await api.post<ApplyResponse>('/config/apply', { yaml: text, baseVersion: draft.base.version });
      setEngineDiags(r.diagnostics);
      if (r.ok) {
        draft.base = { version: r.version, yaml: r.yaml };
        draft.running.setValue(r.yaml);
        qc.setQueryData<ConfigResponse>(configKeys.running(), (old) => (old ? { ...old, version: r.version, yaml: r.yaml, warnings: r.diagnostics.filter((x) => x.severity === 'warning') } : old));
        void qc.invalidateQueries({ queryKey: configKeys.all });
        void qc.invalidateQueries({ queryKey: clusterKeys.all });
        setUnderneath(null);
        setOutcome({ kind: 'applied', version: r.version, warnings: r.diagnostics.filter((x) => x.severity === 'warning').length });
      } else {
        setOutcome({ kind: 'refused', errors: r.diagnostics.filter((x) => x.severity === 'error').length, running: r.version });
        const first = r.diagnostics.find((x) => x.severity === 'error');
        const ed = activeEditor();
        if (first && ed) {
          ed.revealLineInCenterIfOutsideViewport(Math.max(1, first.line));
          ed.setPosition({ lineNumber: Math.max(1, first.line), column: Math.max(1, first.column) });
        }
      }
    } catch (e) {
      if (e instanceof ApiRequestError && e.status === 409) {
        setOutcome({ kind: 'conflict', message: e.message });
        void qc.invalidateQueries({ queryKey: configKeys.all });
      } else {
        setOutcome({ kind: 'error', message: e instanceof Error ? e.message : String(e) });
      }
    } finally {
      setApplying(false);
      refreshDirty();
    }
  };

  const saveName = () => draft?.file?.name ?? baseName(config.data?.sourceName || 'envoy.yaml');

  const save = async (askWhere = false) => {
    if (!draft) return;
    const text = draft.model.getValue();
    const bridge = nativeBridge();
    try {
      if (bridge) {
        const r = await bridge.saveFile(text, { path: askWhere ? undefined : draft.file?.path, suggestedName: saveName() });
        if (!r) return;
        draft.file = { name: r.name, path: r.path };
        setFileLabel(r.name);
        setOutcome({ kind: 'info', message: `Saved to ${r.path}.` });
      } else {
        const name = saveName();
        downloadText(text, name);
        setOutcome({ kind: 'info', message: `Downloaded as ${name}.` });
      }
    } catch (e) {
      setOutcome({ kind: 'error', message: `Could not save: ${e instanceof Error ? e.message : String(e)}` });
    }
  };

  const loadText = (text: string, file: { name: string; path?: string }) => {
    if (!draft) return;
    replaceText(draft.model, text.replace(/\r\n/g, '\n'));
    draft.file = file;
    setFileLabel(file.name);
    setOutcome({ kind: 'info', message: `Opened ${file.path ?? file.name}. Nothing runs until you apply it.` });
    activeEditor()?.focus();
  };

  const open = async () => {
    const bridge = nativeBridge();
    if (!bridge) {
      fileRef.current?.click();
      return;
    }
    try {
      const f = await bridge.openFile();
      if (f) loadText(f.text, { name: f.name, path: f.path });
    } catch (e) {
      setOutcome({ kind: 'error', message: `Could not open: ${e instanceof Error ? e.message : String(e)}` });
    }
  };

  const onFilePicked = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    e.target.value = '';
    if (!f) return;
    if (f.size > 5 * 1024 * 1024) {
      setOutcome({ kind: 'error', message: `${f.name} is over 5 MB: not an Envoy config.` });
      return;
    }
    loadText(await f.text(), { name: f.name });
  };

  const reload = () => {
    if (!draft || !config.data) return;
    replaceText(draft.model, config.data.yaml);
    draft.base = { version: config.data.version, yaml: config.data.yaml };
    draft.file = null;
    setFileLabel(null);
    setUnderneath(null);
    setOutcome(null);
    refreshDirty();
  };

  /** The user's edits and the change made meanwhile, together (they touch different lines). */
  const merge = () => {
    if (!draft || !underneath) return;
    const merged = mergeEdits(draft.base.yaml, draft.model.getValue(), underneath.yaml);
    if (merged === null) {
      setUnderneath({ ...underneath, mergeable: false });
      return;
    }
    replaceText(draft.model, merged);
    draft.base = { version: underneath.version, yaml: underneath.yaml };
    setUnderneath(null);
    setOutcome({ kind: 'info', message: `Merged: your edits now sit on top of version ${underneath.version}. Show changes to review them; Apply when ready.` });
    refreshDirty();
  };

  /** Keeps the edits as they are, now against the new running version, and shows what differs. */
  const compare = () => {
    if (!draft || !underneath) return;
    draft.base = { version: underneath.version, yaml: underneath.yaml };
    setUnderneath(null);
    setOutcome(null);
    refreshDirty();
    setMode('diff');
  };

  const actions = useRef({ apply, save, open });
  actions.current = { apply, save, open };

  function activeEditor(): Editor | null {
    const e = editorRef.current;
    if (!e) return null;
    return 'getModifiedEditor' in e ? e.getModifiedEditor() : e;
  }

  // ---- the Monaco widget: a plain editor or a diff against the running config
  useEffect(() => {
    const host = hostRef.current;
    if (!d || !host) return;
    const common: monaco.editor.IEditorOptions = {
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
      renderWhitespace: 'selection',
      quickSuggestions: { other: true, strings: true, comments: false },
      fixedOverflowWidgets: true,
      hover: { delay: 250 },
    };
    let ed: Editor | DiffEditor;
    let target: Editor;
    if (mode === 'diff') {
      const diff = monaco.editor.createDiffEditor(host, {
        ...common,
        theme: currentTheme(),
        originalEditable: false,
        renderSideBySide: true,
        ignoreTrimWhitespace: false,
        // A config is hundreds of lines and a change a few: fold what did not change.
        hideUnchangedRegions: { enabled: true, contextLineCount: 3, minimumLineCount: 5, revealLineCount: 10 },
      });
      diff.setModel({ original: d.running, modified: d.model });
      const first = diff.onDidUpdateDiff(() => {
        first.dispose();
        diff.revealFirstDiff();
      });
      ed = diff;
      target = diff.getModifiedEditor();
    } else {
      target = monaco.editor.create(host, { ...common, model: d.model, theme: currentTheme() });
      ed = target;
    }
    editorRef.current = ed;
    performance.mark('meshdeck:editor-ready');
    target.addAction({
      id: 'meshdeck.apply',
      label: 'Meshdeck: Apply to the running engine',
      keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter],
      run: () => void actions.current.apply(),
    });
    target.addAction({
      id: 'meshdeck.save',
      label: 'Meshdeck: Save the config',
      keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS],
      run: () => void actions.current.save(),
    });
    target.addAction({
      id: 'meshdeck.open',
      label: 'Meshdeck: Open a config file',
      // Under Electron the File menu owns Ctrl/Cmd+O (and sends the command here).
      keybindings: nativeBridge() ? [] : [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyO],
      run: () => void actions.current.open(),
    });
    target.focus();
    return () => {
      editorRef.current = null;
      ed.dispose();
    };
  }, [d, mode]);

  // Shortcuts outside the editor too (the editor handles its own and stops them).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || !(e.ctrlKey || e.metaKey) || e.altKey) return;
      if (e.key === 's' || e.key === 'S') {
        e.preventDefault();
        void actions.current.save();
      } else if (e.key === 'Enter') {
        e.preventDefault();
        void actions.current.apply();
      } else if ((e.key === 'o' || e.key === 'O') && !nativeBridge()) {
        e.preventDefault();
        void actions.current.open();
      }
    };
    window.addEventListener('keydown', onKey);
    const offMenu = onMenuCommand((c) => {
      if (c.type === 'open') void actions.current.open();
      else if (c.type === 'save') void actions.current.save();
      else if (c.type === 'save-as') void actions.current.save(true);
    });
    return () => {
      window.removeEventListener('keydown', onKey);
      offMenu();
    };
  }, []);

  const reveal = (p: Problem) => {
    const ed = activeEditor();
    if (!ed) return;
    ed.revealLineInCenterIfOutsideViewport(p.line);
    ed.setPosition({ lineNumber: p.line, column: p.column });
    ed.focus();
  };

  const cfg = config.data;
  const running = cfg?.version ?? 0;
  const engineCount = engineDiags ? countText(engineDiags) : '…';

  return (
    <div className="config-editor" data-testid="config">
      <div className="editor-toolbar">
        <div className="editor-title">
          <h1>Config</h1>
          <span className="pill pill-ok" data-testid="config-version" data-version={running} title="The version the engine is running">
            running v{running}
          </span>
          {d && d.base.version !== running ? (
            <span className="pill pill-warn" title="Your edits started from this version">
              edits on v{d.base.version}
            </span>
          ) : null}
          <span className="mono small muted" title={d?.file?.path ?? cfg?.sourceName}>
            {fileLabel ?? baseName(cfg?.sourceName || 'envoy.yaml')}
          </span>
          {dirty ? (
            <span className="pill pill-warn" data-testid="dirty">
              unsaved edits
            </span>
          ) : null}
        </div>
        <div className="editor-actions">
          <button type="button" onClick={() => void open()} data-testid="open" title={`Open a YAML file (${mod}+O)`}>
            Open…
          </button>
          <input ref={fileRef} type="file" accept=".yaml,.yml,.json,application/yaml,application/json,text/yaml" hidden onChange={(e) => void onFilePicked(e)} data-testid="file-input" />
          <button type="button" onClick={() => void save()} data-testid="save" title={`${nativeBridge() ? 'Save' : 'Download'} the edited text (${mod}+S)`}>
            {nativeBridge() ? 'Save' : 'Download'}
          </button>
          <button type="button" onClick={reload} disabled={!dirty} title="Discard the edits: back to the running config">
            Revert
          </button>
          <button type="button" onClick={() => setMode(mode === 'diff' ? 'edit' : 'diff')} aria-pressed={mode === 'diff'} data-testid="diff-toggle" className={mode === 'diff' ? 'on' : ''}>
            {mode === 'diff' ? 'Hide changes' : 'Show changes'}
          </button>
          <button type="button" className="primary" onClick={() => void apply()} disabled={applying || !d} data-testid="apply" title={`Validate and hot-reload the engine with this text (${mod}+Enter)`}>
            {applying ? 'Applying…' : 'Apply'}
          </button>
        </div>
      </div>

      {underneath ? (
        <div className="notice notice-warn editor-notice" role="alert" data-testid="underneath" data-version={underneath.version}>
          <span>
            <strong>The running config changed underneath your edits</strong> (now version {underneath.version}, e.g. a weight changed on the
            Weights screen).{' '}
            {underneath.mergeable
              ? 'Merge keeps your edits and takes the new change (they touch different lines).'
              : 'Your edits and the new change touch the same lines: Compare to see both, or Reload.'}{' '}
            Apply waits until you choose.
          </span>
          <span className="notice-actions">
            {underneath.mergeable ? (
              <button type="button" className="primary" onClick={merge} data-testid="underneath-merge" title="Your edits on top of the new running config">
                Merge
              </button>
            ) : null}
            <button type="button" onClick={reload} data-testid="underneath-reload" title="Discard your edits and take the running config">
              Reload
            </button>
            <button type="button" onClick={compare} data-testid="underneath-compare" title="Keep your edits as they are and show how they differ from the new running config">
              Compare
            </button>
          </span>
        </div>
      ) : null}

      {outcome ? <OutcomeNotice outcome={outcome} onDismiss={() => setOutcome(null)} /> : null}

      <div className="editor-frame">
        {mode === 'diff' ? (
          <div className="diff-legend small muted">
            Left: running (v{running}, read-only). Right: your edits.
          </div>
        ) : null}
        <div ref={hostRef} className="editor-host" data-testid="config-yaml" data-mode={mode} aria-label="Envoy config editor" />
      </div>

      <section className="problems" aria-label="Problems" data-testid="problems">
        <div className="problems-head small">
          <strong>Problems</strong>
          <span className="muted">
            {' '}
            schema as you type · engine: {validating ? 'checking…' : engineCount}
            {validateError ? ` · the engine could not check the text: ${validateError}` : ''}
          </span>
          <span className="muted keys">
            {mod}+Enter apply · {mod}+S {nativeBridge() ? 'save' : 'download'} · {mod}+F find · {mod}+Space complete
          </span>
        </div>
        {problems.length === 0 ? (
          <div className="small muted problems-empty">{engineDiags ? 'No problems: the engine would run this config.' : 'Checking…'}</div>
        ) : (
          <ul>
            {problems.map((p, i) => (
              <li key={i} data-testid="problem" data-owner={p.owner} data-severity={p.severity >= 8 ? 'error' : 'warning'} data-line={p.line} data-code={p.code}>
                <button type="button" className="problem" onClick={() => reveal(p)}>
                  <span className={`sev sev-${p.severity >= 8 ? 'error' : p.severity >= 4 ? 'warning' : 'info'}`} aria-label={p.severity >= 8 ? 'error' : 'warning'} />
                  <span className="where mono">
                    {p.line}:{p.column}
                  </span>
                  <span className="msg">{p.message}</span>
                  <span className="src muted">{p.owner === ENGINE_OWNER ? 'engine' : 'schema'}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function OutcomeNotice({ outcome, onDismiss }: { outcome: Outcome; onDismiss: () => void }) {
  const [cls, body, testid] =
    outcome.kind === 'applied'
      ? [
          'notice-ok',
          <>
            <strong>Applied: the engine now runs version {outcome.version}.</strong>
            {outcome.warnings ? ` ${outcome.warnings} warning${outcome.warnings > 1 ? 's' : ''} about what Meshdeck does not run are listed below.` : ''}
          </>,
          'apply-ok',
        ]
      : outcome.kind === 'refused'
        ? [
            'notice-error',
            <>
              <strong>
                The engine refused this config ({outcome.errors} error{outcome.errors === 1 ? '' : 's'}, marked in the text).
              </strong>{' '}
              The running config (version {outcome.running}) keeps serving traffic; nothing changed.
            </>,
            'apply-refused',
          ]
        : outcome.kind === 'conflict'
          ? [
              'notice-warn',
              <>
                <strong>Not applied: the running config changed since your edits began.</strong> {outcome.message}. Use Compare or Reload above.
              </>,
              'apply-conflict',
            ]
          : outcome.kind === 'error'
            ? ['notice-error', <>{outcome.message}</>, 'apply-error']
            : ['', <>{outcome.message}</>, 'editor-info'];
  return (
    <div className={`notice ${cls} editor-notice`} role={outcome.kind === 'refused' || outcome.kind === 'error' ? 'alert' : 'status'} data-testid={testid}>
      <span>{body}</span>
      <button type="button" className="link" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
