// Drives one MCP server with the official TypeScript SDK client and prints every result as one JSON document, so a
// test can run it against a server directly and through `signet proxy` and compare the two outputs exactly.
// Usage: node proxy-interop.mjs everything|filesystem|memory|env COMMAND [ARGS...]
// The server is launched with this process's whole environment (the TS transport would otherwise pass only a few).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [scenario, command, ...args] = process.argv.slice(2);
const transport = new StdioClientTransport({ command, args, env: { ...process.env }, stderr: 'inherit' });
const client = new Client({ name: 'signet-interop', version: '1.0.0' },
  { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } });

// Server-to-client requests: answered with fixed values so both runs see the same thing.
client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
  role: 'assistant', model: 'interop-model', stopReason: 'endTurn',
  content: { type: 'text', text: `sampled ${request.params.messages.length} message(s)` },
}));
client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { color: 'red', number: 7, pets: 'cats' } }));
client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///interop', name: 'interop root' }] }));

const out = { scenario, calls: [] };
async function call(name, args, extra = {}) {
  let progress = 0;
  const result = await client.callTool({ name, arguments: args }, undefined,
    extra.progress ? { onprogress: () => { progress++; }, timeout: 60000 } : { timeout: 60000 });
  // Only whether progress arrived: the TS client drops a progress notification that lands in the same read as the
  // response (it dispatches notifications a microtask later), so the count depends on how the bytes were chunked.
  out.calls.push({ name, args, result, ...(extra.progress ? { progressSeen: progress > 0 } : {}) });
}

await client.connect(transport);
out.server = client.getServerVersion();
out.tools = (await client.listTools()).tools.map(t => t.name).sort();

if (scenario === 'everything') {
  await call('echo', { message: 'hé <&> 😀 \u2028 "quoted"' });
  await call('get-sum', { a: 2.5, b: 40 });
  await call('get-tiny-image', {});
  await call('get-structured-content', { location: 'Chicago' });
  await call('get-annotated-message', { messageType: 'success', includeImage: false });
  await call('trigger-long-running-operation', { duration: 1, steps: 3 }, { progress: true });
  await call('trigger-sampling-request', { prompt: 'hello', maxTokens: 10 });
  await call('trigger-elicitation-request', {});
  await call('get-roots-list', {});
  await call('no-such-tool', {});
  out.prompts = (await client.listPrompts()).prompts.map(p => p.name).sort();
  out.resources = (await client.listResources()).resources.length;
  await Promise.all(Array.from({ length: 16 }, (_, i) => call('echo', { message: `parallel ${i}` })));
  out.calls.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
} else if (scenario === 'filesystem') {
  const dir = process.env.INTEROP_DIR;
  await call('list_allowed_directories', {});
  await call('write_file', { path: `${dir}/note.txt`, content: 'signed ü\nline 2\n' });
  await call('read_text_file', { path: `${dir}/note.txt` });
  await call('list_directory', { path: dir });
  await call('read_text_file', { path: '/etc/outside-allowed.txt' });
} else if (scenario === 'memory') {
  await call('create_entities', { entities: [{ name: 'Signet', entityType: 'project', observations: ['signs tool calls'] }] });
  await call('add_observations', { observations: [{ entityName: 'Signet', contents: ['keeps a hash chain'] }] });
  await call('read_graph', {});
  await call('search_nodes', { query: 'hash' });
} else if (scenario === 'env') {
  await call('get-env', {});
} else {
  throw new Error(`unknown scenario ${scenario}`);
}

await client.close();
process.stdout.write(JSON.stringify(out) + '\n');
