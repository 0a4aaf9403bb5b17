// How the extension finds `kmlint server`, without VS Code's API (so it can be
// tested with plain Node.js):
//   1. `kmlint.path`: the first executable in the list that exists;
//   2. `kmlint.interpreter`: that Python, as `python -m kmlint server`;
//   3. the interpreter selected in the Python extension, when kmlint (and its
//      language-server extra, pygls) is installed in it;
//   4. `kmlint` on the PATH.

import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface ServerCommand {
  command: string;
  args: string[];
  source: string; // which of the four it is, for the output channel
}

export interface Settings {
  path: string[];
  interpreter: string[];
  args: string[];
  selected?: string[]; // the Python extension's interpreter (command and arguments)
  env?: NodeJS.ProcessEnv; // PATH to search (default: this process's)
}

// exit 0 when `import kmlint` and the server's pygls would work in that Python
const PROBE =
  "import importlib.util as u, sys; sys.exit(0 if u.find_spec('kmlint') and u.find_spec('pygls') else 3)";

export function hasKmlint(interpreter: string[], timeoutMs = 15000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(interpreter[0], [...interpreter.slice(1), "-c", PROBE], { timeout: timeoutMs }, (error) =>
      resolve(error === null),
    );
  });
}

export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const names = process.platform === "win32" ? [`${name}.exe`, `${name}.cmd`, name] : [name];
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    for (const candidate of names) {
      const full = path.join(dir, candidate);
      try {
        fs.accessSync(full, fs.constants.X_OK);
        if (fs.statSync(full).isFile()) {
          return full;
        }
      } catch {
        // not there
      }
    }
  }
  return undefined;
}

export async function resolveServerCommand(
  settings: Settings,
  probe: (interpreter: string[]) => Promise<boolean> = hasKmlint,
): Promise<ServerCommand | undefined> {
  const extra = settings.args;
  const executable = settings.path.find((candidate) => fs.existsSync(candidate));
  if (executable) {
    return { command: executable, args: ["server", ...extra], source: "kmlint.path" };
  }
  const module = (interpreter: string[]) => [...interpreter.slice(1), "-m", "kmlint", "server", ...extra];
  if (settings.interpreter.length > 0) {
    return { command: settings.interpreter[0], args: module(settings.interpreter), source: "kmlint.interpreter" };
  }
  if (settings.selected && settings.selected.length > 0 && (await probe(settings.selected))) {
    return { command: settings.selected[0], args: module(settings.selected), source: "selected interpreter" };
  }
  const found = onPath("kmlint", settings.env ?? process.env);
  if (found) {
    return { command: found, args: ["server", ...extra], source: "PATH" };
  }
  return undefined;
}
