// kmlint for VS Code: starts `kmlint server` (the language server shipped with
// kmlint) for Python files and Jupyter notebooks.  Everything else (diagnostics,
// fixes, suppressions, hover docs, config reload) is the server's.

import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions } from "vscode-languageclient/node";
import { resolveServerCommand } from "./command";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;

const RESTART_ON = ["kmlint.enable", "kmlint.run", "kmlint.path", "kmlint.interpreter", "kmlint.args", "kmlint.debounceMs"];

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

async function start(): Promise<void> {
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  const config = vscode.workspace.getConfiguration("kmlint", resource);
  if (!config.get<boolean>("enable", true)) {
    output?.appendLine("kmlint: disabled (kmlint.enable is false)");
    return;
  }
  const selected = await selectedInterpreter(resource);
  const found = await resolveServerCommand({
    path: config.get<string[]>("path", []),
    interpreter: config.get<string[]>("interpreter", []),
    args: config.get<string[]>("args", []),
    selected,
  });
  if (!found) {
    void vscode.window.showErrorMessage(
      `kmlint: not found in the selected Python interpreter${selected ? ` (${selected.join(" ")})` : ""} ` +
        "nor on the PATH. Install it with its language server (pip install 'kmlint[lsp]') or set kmlint.path / kmlint.interpreter.",
    );
    return;
  }
  const { command, args, source } = found;
  output?.appendLine(`kmlint: starting ${command} ${args.join(" ")} (from ${source})`);
  const serverOptions: ServerOptions = { command, args, options: { cwd: resource?.fsPath } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
      { scheme: "vscode-notebook-cell", language: "python" },
    ],
    outputChannel: output,
    initializationOptions: {
      debounceMs: config.get<number>("debounceMs", 150),
      run: config.get<string>("run", "onType"),
    },
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
      if (RESTART_ON.some((s) => event.affectsConfiguration(s))) {
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
