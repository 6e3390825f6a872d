#!/usr/bin/env node
// An MCP client built on the official TypeScript SDK, used by the interop tests as a third-party client.
// It connects to a stdio command or a Streamable HTTP URL, runs one named scenario, and prints one JSON
// document on stdout whose content is normalized (sorted names, no timings, temp paths replaced) so that
// a run against a server directly and a run through Signet can be compared as text.
//
// Usage:
//   node ts-client.mjs SCENARIO [SCENARIO_ARGS…] [--timeout-ms N] --stdio -- COMMAND [ARGS…]
//   node ts-client.mjs SCENARIO [SCENARIO_ARGS…] [--timeout-ms N] --http URL [--header 'Name: value']…
// Scenarios: everything | filesystem DIR | memory | demo
// Exit codes: 0 success, 1 scenario failure (a check failed or a call threw), 2 usage error, 3 overall timeout.
// The stdio child gets this process's whole environment (the SDK's default passes only a small allow-list).

import { createHash } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ProgressNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const USAGE =
  "usage: node ts-client.mjs SCENARIO [ARGS…] [--timeout-ms N] (--stdio -- COMMAND [ARGS…] | --http URL [--header 'Name: value']…)\n" +
  "scenarios: everything | filesystem DIR | memory | demo";

class UsageError extends Error {}
class CheckError extends Error {}

function parseArgs(argv) {
  const options = { positional: [], headers: {}, timeoutMs: 60_000, stdio: null, http: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--stdio") {
      if (argv[i + 1] !== "--" || argv.length < i + 3) throw new UsageError("--stdio must be followed by -- COMMAND [ARGS…]");
      options.stdio = { command: argv[i + 2], args: argv.slice(i + 3) };
      break;
    } else if (arg === "--http") {
      options.http = argv[++i];
      if (!options.http) throw new UsageError("--http needs a URL");
    } else if (arg === "--header") {
      const header = argv[++i] ?? "";
      const colon = header.indexOf(":");
      if (colon <= 0) throw new UsageError(`--header needs 'Name: value', got '${header}'`);
      options.headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
    } else if (arg === "--timeout-ms") {
      options.timeoutMs = Number(argv[++i]);
      if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) throw new UsageError("--timeout-ms needs a positive integer");
    } else if (arg.startsWith("--")) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      options.positional.push(arg);
    }
  }
  if (!options.stdio === !options.http) throw new UsageError("give exactly one of --stdio -- COMMAND… or --http URL");
  if (options.positional.length === 0) throw new UsageError("no scenario given");
  return options;
}

function createTransport(options) {
  if (options.stdio) {
    const env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined));
    return new StdioClientTransport({ command: options.stdio.command, args: options.stdio.args, env, stderr: "inherit" });
  }
  let url;
  try {
    url = new URL(options.http);
  } catch {
    throw new UsageError(`not a URL: ${options.http}`);
  }
  return new StreamableHTTPClientTransport(url, { requestInit: { headers: options.headers } });
}

// ---- normalization -------------------------------------------------------------------------------

const sha256 = (text) => "sha256:" + createHash("sha256").update(text, "utf8").digest("hex");

function normalizeContent(block, replace) {
  if (block.type === "text") return { type: "text", text: replace(block.text) };
  if (block.type === "image" || block.type === "audio") return { type: block.type, mimeType: block.mimeType, dataSha256: sha256(block.data) };
  if (block.type === "resource") return { type: "resource", resource: normalizeResourceContents(block.resource, replace) };
  return { type: block.type, uri: block.uri };
}

function normalizeResourceContents(contents, replace = (s) => s) {
  const out = { uri: contents.uri, mimeType: contents.mimeType ?? null };
  if (typeof contents.text === "string") {
    out.textLength = contents.text.length;
    out.textSha256 = sha256(contents.text);
    if (contents.text.length <= 4096) out.text = replace(contents.text);
  } else if (typeof contents.blob === "string") {
    out.blobSha256 = sha256(contents.blob);
  }
  return out;
}

function normalizeCallResult(result, replace = (s) => s) {
  const out = { isError: result.isError === true, content: (result.content ?? []).map((b) => normalizeContent(b, replace)) };
  if (result.structuredContent !== undefined) out.structuredContent = JSON.parse(replace(JSON.stringify(result.structuredContent)));
  return out;
}

const sortedNames = (items) => items.map((x) => x.name).sort();

// ---- checks -------------------------------------------------------------------------------------

function check(condition, message) {
  if (!condition) throw new CheckError(message);
}

function textOf(result) {
  const block = (result.content ?? []).find((b) => b.type === "text");
  check(block !== undefined, `expected a text content block in ${JSON.stringify(result)}`);
  return block.text;
}

function requireTools(tools, names) {
  const have = new Set(tools.map((t) => t.name));
  const missing = names.filter((n) => !have.has(n));
  check(missing.length === 0, `server lacks tools ${missing.join(", ")}; it has ${[...have].sort().join(", ")}`);
}

// Progress is collected by our own notifications/progress handler, keyed by a token we choose. The SDK's
// `onprogress` option is not used: its client dispatches notifications on a microtask but handles the
// response synchronously, so a last progress notification that arrives in the same chunk as the response
// is dropped once the response has removed the per-request handler.
const progressByToken = new Map();

function collectProgress(client) {
  client.setNotificationHandler(ProgressNotificationSchema, (notification) => {
    const { progressToken, progress, total } = notification.params;
    const list = progressByToken.get(progressToken);
    if (list) list.push({ progress, total: total ?? null });
  });
}

let nextProgressToken = 1;

async function callWithProgress(client, name, args) {
  const token = `ts-client-progress-${nextProgressToken++}`;
  progressByToken.set(token, []);
  const result = await client.callTool({ name, arguments: args, _meta: { progressToken: token } });
  // Let notification handlers already queued behind the response run.
  await new Promise((resolve) => setImmediate(resolve));
  const progress = progressByToken.get(token).sort((a, b) => a.progress - b.progress);
  progressByToken.delete(token);
  return { result, progress };
}

async function concurrentEchoes(client, tool, count, expected) {
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) => client.callTool({ name: tool, arguments: { message: `concurrent-${i}` } })),
  );
  const texts = results.map(textOf);
  texts.forEach((text, i) => check(text === expected(`concurrent-${i}`), `concurrent echo ${i} answered '${text}'`));
  return { count, allMatched: true };
}

// ---- scenarios ----------------------------------------------------------------------------------

const scenarios = {
  async everything(client) {
    const tools = (await client.listTools()).tools;
    requireTools(tools, ["echo", "get-sum", "trigger-long-running-operation"]);
    const echo = await client.callTool({ name: "echo", arguments: { message: "hello from ts-client" } });
    check(textOf(echo) === "Echo: hello from ts-client", `echo answered '${textOf(echo)}'`);
    const sum = await client.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } });
    check(textOf(sum).includes("42"), `get-sum answered '${textOf(sum)}'`);
    const longRunning = await callWithProgress(client, "trigger-long-running-operation", { duration: 0.3, steps: 3 });
    check(longRunning.progress.length === 3, `expected 3 progress notifications, got ${JSON.stringify(longRunning.progress)}`);

    const resources = (await client.listResources()).resources;
    const documents = resources.map((r) => r.uri).filter((u) => u.startsWith("demo://resource/static/document/")).sort();
    check(documents.length > 0, `no static document among the resources: ${resources.map((r) => r.uri).join(", ")}`);
    const read = await client.readResource({ uri: documents[0] });

    const prompts = (await client.listPrompts()).prompts;
    check(prompts.some((p) => p.name === "simple-prompt"), `no simple-prompt among ${sortedNames(prompts).join(", ")}`);
    const prompt = await client.getPrompt({ name: "simple-prompt" });

    return {
      tools: sortedNames(tools),
      calls: {
        echo: normalizeCallResult(echo),
        "get-sum": normalizeCallResult(sum),
        "trigger-long-running-operation": normalizeCallResult(longRunning.result),
      },
      progress: { "trigger-long-running-operation": longRunning.progress },
      resources: { count: resources.length, staticDocuments: documents },
      readResource: read.contents.map((c) => normalizeResourceContents(c)),
      prompts: sortedNames(prompts),
      getPrompt: prompt.messages.map((m) => ({ role: m.role, content: normalizeContent(m.content, (s) => s) })),
      concurrentEchoes: await concurrentEchoes(client, "echo", 16, (m) => `Echo: ${m}`),
    };
  },

  async filesystem(client, [dir]) {
    if (!dir) throw new UsageError("scenario filesystem needs DIR (a directory the server allows)");
    const replace = (s) => s.split(dir).join("<DIR>");
    const tools = (await client.listTools()).tools;
    requireTools(tools, ["list_directory", "write_file", "read_text_file"]);
    const file = `${dir.replace(/[\\/]+$/, "")}/ts-client.txt`;
    const content = "written by ts-client\nsecond line ü\n";
    const before = await client.callTool({ name: "list_directory", arguments: { path: dir } });
    const write = await client.callTool({ name: "write_file", arguments: { path: file, content } });
    check(write.isError !== true, `write_file failed: ${JSON.stringify(write)}`);
    const read = await client.callTool({ name: "read_text_file", arguments: { path: file } });
    check(textOf(read) === content, `read_text_file returned '${textOf(read)}'`);
    const after = await client.callTool({ name: "list_directory", arguments: { path: dir } });
    check(textOf(after).includes("ts-client.txt"), `list_directory after the write lacks ts-client.txt: '${textOf(after)}'`);
    return {
      tools: sortedNames(tools),
      calls: {
        list_directory_before: normalizeCallResult(before, replace),
        write_file: normalizeCallResult(write, replace),
        read_text_file: normalizeCallResult(read, replace),
        list_directory_after: normalizeCallResult(after, replace),
      },
    };
  },

  async memory(client) {
    const tools = (await client.listTools()).tools;
    requireTools(tools, ["create_entities", "read_graph"]);
    const entities = [
      { name: "Signet", entityType: "project", observations: ["signs MCP tool calls"] },
      { name: "Receipt", entityType: "concept", observations: ["Ed25519 over RFC 8785 JSON"] },
    ];
    const create = await client.callTool({ name: "create_entities", arguments: { entities } });
    check(create.isError !== true, `create_entities failed: ${JSON.stringify(create)}`);
    const graph = await client.callTool({ name: "read_graph", arguments: {} });
    const text = textOf(graph);
    for (const e of entities) check(text.includes(e.name), `read_graph lacks entity ${e.name}: '${text}'`);
    return {
      tools: sortedNames(tools),
      calls: { create_entities: normalizeCallResult(create), read_graph: normalizeCallResult(graph) },
    };
  },

  async demo(client) {
    const tools = (await client.listTools()).tools;
    requireTools(tools, ["echo", "add", "lookup_customer", "fail", "count"]);
    const echo = await client.callTool({ name: "echo", arguments: { message: "hello <&> ü" } });
    check(textOf(echo) === "hello <&> ü", `echo answered '${textOf(echo)}'`);
    const add = await client.callTool({ name: "add", arguments: { a: 2, b: 40 } });
    check(textOf(add) === "42", `add answered '${textOf(add)}'`);
    const customer = await client.callTool({ name: "lookup_customer", arguments: { id: "C-1001" } });
    check(customer.structuredContent?.name === "Ada Lovelace", `lookup_customer answered ${JSON.stringify(customer)}`);
    const fail = await client.callTool({ name: "fail", arguments: { reason: "asked to" } });
    check(fail.isError === true, `fail did not set isError: ${JSON.stringify(fail)}`);
    const count = await callWithProgress(client, "count", { to: 3, delay_ms: 10 });
    check(count.progress.length === 3, `expected 3 progress notifications, got ${JSON.stringify(count.progress)}`);

    const resources = (await client.listResources()).resources;
    const read = await client.readResource({ uri: "demo://customers" });
    const prompts = (await client.listPrompts()).prompts;
    const prompt = await client.getPrompt({ name: "summarize_customer", arguments: { id: "C-1002" } });
    return {
      tools: sortedNames(tools),
      calls: {
        echo: normalizeCallResult(echo),
        add: normalizeCallResult(add),
        lookup_customer: normalizeCallResult(customer),
        fail: normalizeCallResult(fail),
        count: normalizeCallResult(count.result),
      },
      progress: { count: count.progress },
      resources: resources.map((r) => r.uri).sort(),
      readResource: read.contents.map((c) => normalizeResourceContents(c)),
      prompts: sortedNames(prompts),
      getPrompt: prompt.messages.map((m) => ({ role: m.role, content: normalizeContent(m.content, (s) => s) })),
      concurrentEchoes: await concurrentEchoes(client, "echo", 16, (m) => m),
    };
  },
};

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`ts-client: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const [name, ...scenarioArgs] = options.positional;
  const scenario = scenarios[name];
  if (!scenario) {
    process.stderr.write(`ts-client: unknown scenario '${name}'\n${USAGE}\n`);
    return 2;
  }

  const client = new Client({ name: "signet-interop-ts-client", version: "1.0.0" }, { capabilities: {} });
  let transport;
  const timer = setTimeout(() => {
    process.stderr.write(`ts-client: scenario '${name}' did not finish within ${options.timeoutMs} ms; giving up\n`);
    // Do not wait for a graceful close that may itself hang: kill the stdio child, then exit.
    try {
      if (transport?.pid) process.kill(transport.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
    process.exit(3);
  }, options.timeoutMs);
  try {
    transport = createTransport(options);
    collectProgress(client);
    await client.connect(transport);
    const results = await scenario(client, scenarioArgs);
    const server = client.getServerVersion();
    const document = {
      scenario: name,
      server: { name: server?.name ?? null, version: server?.version ?? null },
      capabilities: Object.keys(client.getServerCapabilities() ?? {}).sort(),
      ...results,
    };
    // Wait for the write: on some platforms pipe writes are asynchronous and process.exit would cut them off.
    await new Promise((resolve) => process.stdout.write(JSON.stringify(document, null, 2) + "\n", resolve));
    return 0;
  } catch (e) {
    const kind = e instanceof UsageError ? "usage" : e instanceof CheckError ? "check failed" : "error";
    process.stderr.write(`ts-client: scenario '${name}' ${kind}: ${e?.stack ?? e}\n`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    // Still under the overall timer: a close that hangs is a timeout too.
    await client.close().catch(() => {});
    clearTimeout(timer);
  }
}

// Exit explicitly: a child or socket left open must not keep the client alive.
main().then((code) => process.exit(code));
