// kmlint for VS Code: starts `kmlint server` (the language server shipped with
// kmlint) for Python files and Jupyter notebooks.  Everything else (diagnostics,
// fixes, suppressions, hover docs, config reload) is the server's.

import * as fs from "fs";
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions } from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;

interface ServerCommand {
  command: string;
  args: string[];
}

// The interpreter selected in the Python extension, if it is installed.
async function selectedInterpreter(resource?: vscode.Uri): Promise<string[] | undefined> {
  const python = vscode.extensions.getExtension("ms-python.python");
  if (!python) {
    return undefined;
  }
  try {
    const api: any = python.isActive ? python.exports : await python.activate();
    const environments = api?.environments;
    if (environments?.getActiveEnvironmentPath && environments?.resolveEnvironment) {
      const resolved = await environments.resolveEnvironment(environments.getActiveEnvironmentPath(resource));
      const executable: string | undefined = resolved?.executable?.uri?.fsPath;
      if (executable) {
        return [executable];
      }
    }
    const details = api?.settings?.getExecutionDetails?.(resource);
    if (Array.isArray(details?.execCommand) && details.execCommand.length > 0) {
      return details.execCommand;
    }
  } catch (error) {
    output?.appendLine(`kmlint: could not ask the Python extension for its interpreter: ${error}`);
  }
  return undefined;
}

// Like the Ruff and Pylint extensions: an explicit executable, else an
// interpreter (configured, else the Python extension's), else `kmlint` on PATH.
async function serverCommand(config: vscode.WorkspaceConfiguration, resource?: vscode.Uri): Promise<ServerCommand> {
  const extra = config.get<string[]>("args", []);
  const executable = config.get<string[]>("path", []).find((candidate) => fs.existsSync(candidate));
  if (executable) {
    return { command: executable, args: ["server", ...extra] };
  }
  const configured = config.get<string[]>("interpreter", []);
  const interpreter = configured.length > 0 ? configured : await selectedInterpreter(resource);
  if (interpreter && interpreter.length > 0) {
    return { command: interpreter[0], args: [...interpreter.slice(1), "-m", "kmlint", "server", ...extra] };
  }
  return { command: "kmlint", args: ["server", ...extra] };
}

async function start(): Promise<void> {
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  const config = vscode.workspace.getConfiguration("kmlint", resource);
  const { command, args } = await serverCommand(config, resource);
  output?.appendLine(`kmlint: starting ${command} ${args.join(" ")}`);
  const serverOptions: ServerOptions = { command, args, options: { cwd: resource?.fsPath } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
      { scheme: "vscode-notebook-cell", language: "python" },
    ],
    outputChannel: output,
    initializationOptions: { debounceMs: config.get<number>("debounceMs", 150) },
  };
  client = new LanguageClient("kmlint", "kmlint", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    void vscode.window.showErrorMessage(
      `kmlint: could not start "${command} ${args.join(" ")}" (${error}). ` +
        "Install kmlint with its language server (pip install 'kmlint[lsp]') or set kmlint.path / kmlint.interpreter.",
    );
  }
}

async function restart(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop().catch(() => undefined);
  }
  await start();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("kmlint");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("kmlint.restart", restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (["kmlint.path", "kmlint.interpreter", "kmlint.args", "kmlint.debounceMs"].some((s) => event.affectsConfiguration(s))) {
        void restart();
      }
    }),
  );
  const python = vscode.extensions.getExtension("ms-python.python");
  const environments = python?.isActive ? (python.exports as any)?.environments : undefined;
  if (environments?.onDidChangeActiveEnvironmentPath) {
    context.subscriptions.push(environments.onDidChangeActiveEnvironmentPath(() => void restart()));
  }
  await start();
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
  }
}
