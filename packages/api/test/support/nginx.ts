// A real load balancer for the tests: Debian's nginx in front of several upstream ports, with WebSocket
// upgrades passed through, from its own temporary prefix (configuration, pid, logs, temporary files) on a free
// port. It runs as an unprivileged user; stop() ends it and removes the prefix, as does the end of the test
// process when stop() was never reached.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, killAndRemoveSync, onProcessEnd, stopChild, tail, unprivilegedUser, waitForPort } from './processes.js';

export interface NginxOptions {
  /** Ports on 127.0.0.1 to balance between. */
  upstreams: number[];
  /**
   * `round-robin` (nginx's default: each request to the next upstream), `least-conn`, or `ip-hash` (sticky by
   * client address: on loopback every request goes to one upstream).
   */
  balance?: 'round-robin' | 'least-conn' | 'ip-hash';
}

export interface Nginx {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Its temporary folder: configuration, logs, pid, temporary files. */
  prefix: string;
  /** One entry per request nginx finished, oldest first: which upstream served it (`127.0.0.1:<port>`). */
  accessLog(): { method: string; uri: string; status: number; upstream: string }[];
  /** Stops nginx (open connections are closed) and removes its prefix. Idempotent. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install it with `apt-get install -y nginx` (Debian; no nginx service needs to run, the tests start their own) or set DISCO_NGINX to the binary.';

/** The nginx binary: DISCO_NGINX, else Debian's /usr/sbin/nginx. */
export function nginxBin(): string {
  const bin = process.env.DISCO_NGINX ?? '/usr/sbin/nginx';
  if (!existsSync(bin)) throw new Error(`nginx was not found at ${bin}. The load-balancer tests need it: ${INSTALL_HINT}`);
  return bin;
}

/** Starts nginx balancing between `options.upstreams`; resolves once it accepts connections. */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  if (options.upstreams.length === 0) throw new Error('nginx needs at least one upstream port');
  const bin = nginxBin();
  // The master does not need root: as an unprivileged user it runs its workers as that user.
  const user = unprivilegedUser(['www-data']);
  const prefix = mkdtempSync(path.join(tmpdir(), 'disco-nginx-'));
  const errorLog = path.join(prefix, 'error.log');
  const accessLogFile = path.join(prefix, 'access.log');
  let removeCleanup = onProcessEnd(() => rmSync(prefix, { recursive: true, force: true }));
  try {
    mkdirSync(path.join(prefix, 'temp'));
    chmodSync(prefix, 0o700);
    if (user) {
      chownSync(prefix, user.uid, user.gid);
      chownSync(path.join(prefix, 'temp'), user.uid, user.gid);
    }
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = path.join(prefix, 'nginx.conf');
      writeFileSync(config, configuration(prefix, port, options));
      const out = openSync(path.join(prefix, 'stderr.log'), 'w');
      // -e: the error log from the start (before the configuration is read, nginx would open /var/log/nginx's).
      const command = [bin, '-p', prefix, '-c', config, '-e', errorLog];
      const args = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'TERM', '--', ...command] : command;
      const child = spawn(args[0], args.slice(1), { stdio: ['ignore', out, out], uid: user?.uid, gid: user?.gid });
      closeSync(out);
      removeCleanup();
      removeCleanup = onProcessEnd(() => killAndRemoveSync(child, 'SIGTERM', prefix));
      try {
        await waitForPort(port, child, 15_000, () => tail(errorLog) + tail(path.join(prefix, 'stderr.log')));
      } catch (error) {
        await stopChild(child, [['SIGTERM', 2000]]);
        if (attempt < 3 && /Address already in use/.test(tail(errorLog))) continue;
        throw new Error(`nginx did not start: ${(error as Error).message}`);
      }
      let stopping: Promise<void> | undefined;
      return {
        url: `http://127.0.0.1:${port}`,
        port,
        prefix,
        accessLog: () => parseAccessLog(accessLogFile),
        // SIGTERM: nginx's fast shutdown (SIGQUIT would wait for open WebSockets to close).
        stop: () =>
          (stopping ??= (async () => {
            removeCleanup();
            await stopChild(child, [['SIGTERM', 5000]]);
            rmSync(prefix, { recursive: true, force: true });
          })()),
      };
    }
  } catch (error) {
    removeCleanup();
    rmSync(prefix, { recursive: true, force: true });
    throw error;
  }
}

/**
 * What docs/DEPLOYMENT.md asks of the proxy in front of Disco (WebSocket upgrade, large request bodies streamed,
 * idle WebSockets kept open), in front of several instances.
 */
function configuration(prefix: string, port: number, options: NginxOptions): string {
  const balance = { 'round-robin': '', 'least-conn': 'least_conn;', 'ip-hash': 'ip_hash;' }[options.balance ?? 'round-robin'];
  const temp = (name: string) => path.join(prefix, 'temp', name);
  return `daemon off;
worker_processes 1;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} notice;
events { worker_connections 1024; }
http {
  log_format upstreams '$request_method $uri $status $upstream_addr';
  access_log ${path.join(prefix, 'access.log')} upstreams;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream disco {
    ${balance}
${options.upstreams.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 256m;
    proxy_request_buffering off;
    location / {
      proxy_pass http://disco;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 120s;
    }
  }
}
`;
}

function parseAccessLog(file: string): { method: string; uri: string; status: number; upstream: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [method, uri, status, ...upstream] = line.split(' ');
      return { method, uri, status: Number(status), upstream: upstream.join(' ') };
    });
}
