// A web-test-runner plugin for the browser tests of decentralized training: through
// `executeServerCommand`, a test page starts a Disco server with a Node peer in a separate process
// (packages/api/test/fixtures/browser-peers-server.ts), reads that peer's result, and stops it.
//   disco-peers-start → { url }      disco-peers-result → the Node peer's `{ type: 'result', weights }`
//   disco-peers-stop  → true
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../../../../api/test/fixtures/browser-peers-server.ts', import.meta.url));

export function peersPlugin() {
  let child;
  let events = [];
  let watchers = [];
  const stop = () => {
    child?.kill('SIGKILL');
    child = undefined;
  };
  /** The first event that matches, now or within `timeoutMs`. */
  const waitFor = (match, timeoutMs) =>
    new Promise((resolve, reject) => {
      const found = events.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`the Node peer did not report in ${timeoutMs} ms: ${JSON.stringify(events.slice(-5))}`)), timeoutMs);
      watchers.push((event) => {
        if (!match(event)) return false;
        clearTimeout(timer);
        resolve(event);
        return true;
      });
    });
  return {
    name: 'disco-peers',
    async executeCommand({ command }) {
      if (command === 'disco-peers-start') {
        stop();
        events = [];
        watchers = [];
        child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
        let buffer = '';
        child.stdout.on('data', (chunk) => {
          buffer += chunk.toString();
          const lines = buffer.split('\n');
          buffer = lines.pop() ?? '';
          for (const line of lines.filter((l) => l.startsWith('{'))) {
            const event = JSON.parse(line);
            events.push(event);
            watchers = watchers.filter((watch) => !watch(event));
          }
        });
        const { url } = await waitFor((e) => e.type === 'listening', 60_000);
        return { url };
      }
      if (command === 'disco-peers-result') return waitFor((e) => e.type === 'result' || e.type === 'error', 60_000);
      if (command === 'disco-peers-stop') {
        stop();
        return true;
      }
      return undefined;
    },
    serverStop: stop,
  };
}
