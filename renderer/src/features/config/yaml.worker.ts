// The YAML language worker (monaco-yaml's language server), started by monaco.ts's getWorker for
// the label "yaml". Its own module so Vite bundles it as a worker (`?worker`).
import 'monaco-yaml/yaml.worker.js';
