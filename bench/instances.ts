// One instance on SQLite, one on PostgreSQL, two on PostgreSQL behind nginx, side by side in one run (issue 14's
// "Benchmark"): the aggregation bench's round (CLIENTS clients each PUT one float32 FedAvg update of a
// PARAMS-parameter model, 4 at a time on kept-alive node:http sockets) against each set-up in turn, alternating,
// REPEATS rounds each. Every set-up runs the same server (bench/aggregation-server.ts: `startServer` in its own
// process, a fake model toolkit) on a fresh database; PostgreSQL is a throwaway cluster (the api tests'
// support/postgres.ts) and the load balancer the tests' nginx (support/nginx.ts, round-robin).
//   npx tsx --conditions=source bench/instances.ts
// INSTANCES_CLIENTS (100), INSTANCES_PARAMS (1,000,000), INSTANCES_REPEATS (2), INSTANCES_SETUPS
// (sqlite-1,postgres-1,postgres-2-nginx; postgres-1-nginx also exists), BENCH_CPU_PROF=<dir> profiles every
// instance (node --cpu-prof). The cluster keeps PostgreSQL's durable defaults (fsync, synchronous_commit and
// full_page_writes on; startPostgres's `durable`), as SQLite's commits here are real: INSTANCES_PG_THROWAWAY=1
// gives the tests' settings instead (no flush: PostgreSQL's upper bound).
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { decodeWeights, encodeWeights, type FlatWeights, type JoinResult } from '@disco/core';
import { createFederationApi } from '@disco/client';
import { startPostgres, type PostgresCluster } from '../packages/api/test/support/postgres.js';
import { startNginx, type Nginx } from '../packages/api/test/support/nginx.js';
import { cpuSeconds, put, rssBytes } from './aggregation.js';
import { median, type BenchResult } from './lib.js';

const PARAMS = Number(process.env.INSTANCES_PARAMS ?? 1_000_000);
const CLIENTS = Number(process.env.INSTANCES_CLIENTS ?? 100);
const REPEATS = Number(process.env.INSTANCES_REPEATS ?? 2);
const CONCURRENCY = 4;
const MB = 1024 * 1024;

interface Setup {
  name: string;
  label: string;
  engine: 'sqlite' | 'postgres';
  instances: number;
  nginx: boolean;
}

const SETUPS: Setup[] = [
  { name: 'sqlite-1', label: '1 instance, SQLite', engine: 'sqlite', instances: 1, nginx: false },
  { name: 'postgres-1', label: '1 instance, PostgreSQL', engine: 'postgres', instances: 1, nginx: false },
  { name: 'postgres-1-nginx', label: '1 instance, PostgreSQL, behind nginx', engine: 'postgres', instances: 1, nginx: true },
  { name: 'postgres-2-nginx', label: '2 instances, PostgreSQL, behind nginx', engine: 'postgres', instances: 2, nginx: true },
];

interface Round {
  /** First PUT → version 1 seen by a heartbeat. */
  seconds: number;
  /** First PUT → the last PUT answered (every update accepted). */
  uploadSeconds: number;
  /**
   * The slowest PUT: the update that completes the round is answered after its instance closed the round (read
   * the deltas, aggregated, stored the version), so this is about the close's time.
   */
  slowestPutSeconds: number;
  medianPutSeconds: number;
  /** CPU seconds over the round: the instances together, PostgreSQL (every process of the cluster), nginx, this process. */
  serverCpu: number;
  postgresCpu: number;
  nginxCpu: number;
  benchCpu: number;
  /** Per instance: RSS after the joins, peak RSS during the round (bytes). */
  idleRss: number[];
  peakRss: number[];
  load: number;
}

/** CPU seconds of `pid` and its descendants (those alive, plus the children it has reaped). */
function treeCpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const visit = (p: number) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      // utime, stime, cutime, cstime
      total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
    } catch {
      return;
    }
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return total;
}

const pidFromFile = (file: string) => Number(readFileSync(file, 'utf8').split('\n')[0].trim());

/** One bench server (bench/aggregation-server.ts) on `db` (a postgres:// URL, or undefined: its own SQLite file). */
async function startInstance(db: string | undefined, index: number): Promise<{ child: ChildProcess; url: string; port: number }> {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const child = spawn(process.execPath, [...profile, '--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./aggregation-server.ts', import.meta.url))], {
    env: { ...process.env, PARAMS: String(PARAMS), CLIENTS: String(CLIENTS), NODE_NO_WARNINGS: '1', BENCH_DB: db ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server ${index} exited (${code})`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  const { url } = JSON.parse(line) as { url: string };
  return { child, url, port: Number(new URL(url).port) };
}

function stopInstance(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** The update of client `i` (8 distinct ones, as the aggregation bench) and the examples it claims. */
const samples = (i: number) => 10 + ((i % 8) % 5);

async function runRound(setup: Setup, cluster: PostgresCluster | undefined, serial: number, encoded: Uint8Array[]): Promise<Round> {
  const db = setup.engine === 'postgres' ? await cluster!.createDatabase(`bench_${serial}`) : undefined;
  const instances: Awaited<ReturnType<typeof startInstance>>[] = [];
  let nginx: Nginx | undefined;
  try {
    // One after the other: the first migrates and seeds the task, the next finds them.
    for (let i = 0; i < setup.instances; i++) instances.push(await startInstance(db, i));
    if (setup.nginx) nginx = await startNginx({ upstreams: instances.map((s) => s.port) });
    const url = nginx?.url ?? instances[0].url;
    const pids = instances.map((s) => s.child.pid!);
    const api = createFederationApi(url, { WebSocket });
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    try {
      const joined: JoinResult[] = [];
      for (let i = 0; i < CLIENTS; i++) joined.push(await api.join('bench'));
      const idleRss = pids.map(rssBytes);
      const peakRss = [...idleRss];
      const sampler = setInterval(() => pids.forEach((pid, i) => (peakRss[i] = Math.max(peakRss[i], rssBytes(pid)))), 10);
      const postmaster = cluster && pidFromFile(path.join(cluster.folder, 'data', 'postmaster.pid'));
      const nginxPid = nginx && pidFromFile(path.join(nginx.prefix, 'nginx.pid'));
      const before = {
        server: pids.reduce((n, pid) => n + cpuSeconds(pid), 0),
        postgres: postmaster ? treeCpuSeconds(postmaster) : 0,
        nginx: nginxPid ? treeCpuSeconds(nginxPid) : 0,
        bench: process.cpuUsage(),
      };
      const load = os.loadavg()[0];
      const started = performance.now();
      let next = 0;
      const putSeconds: number[] = [];
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < CLIENTS) {
            const i = next++;
            const sent = performance.now();
            await put(agent, `${url}/v1/tasks/bench/rounds/1/update`, joined[i].token, encoded[i % encoded.length]);
            putSeconds.push((performance.now() - sent) / 1000);
          }
        }),
      );
      const uploaded = performance.now();
      let state = await api.heartbeat(joined[0].token);
      while (state.modelVersion < 1) {
        await new Promise((r) => setTimeout(r, 5));
        state = await api.heartbeat(joined[0].token);
      }
      const done = performance.now();
      const { user, system } = process.cpuUsage(before.bench);
      const round: Round = {
        seconds: (done - started) / 1000,
        uploadSeconds: (uploaded - started) / 1000,
        slowestPutSeconds: Math.max(...putSeconds),
        medianPutSeconds: median(putSeconds),
        serverCpu: pids.reduce((n, pid) => n + cpuSeconds(pid), 0) - before.server,
        postgresCpu: postmaster ? treeCpuSeconds(postmaster) - before.postgres : 0,
        nginxCpu: nginxPid ? treeCpuSeconds(nginxPid) - before.nginx : 0,
        benchCpu: (user + system) / 1e6,
        idleRss,
        peakRss,
        load,
      };
      clearInterval(sampler);
      pids.forEach((pid, i) => (peakRss[i] = Math.max(peakRss[i], rssBytes(pid))));
      // Version 1 is the weighted mean of the updates (version 0 is zeros), whichever instance closed the round.
      const v1 = decodeWeights(await api.downloadWeights('bench', 1));
      if (v1.weights.values.length !== PARAMS) throw new Error(`${setup.name}: version 1 has the wrong size`);
      for (const j of [0, 1, 2, 3, 4, 5, 6, 123_457 % PARAMS, PARAMS - 1]) {
        let sum = 0;
        let weights = 0;
        for (let i = 0; i < CLIENTS; i++) {
          sum += samples(i) * ((((i % encoded.length) + j) % 7) * 1e-3);
          weights += samples(i);
        }
        if (Math.abs(v1.weights.values[j] - sum / weights) > 1e-7) throw new Error(`${setup.name}: version 1 is not the weighted mean at ${j}`);
      }
      return round;
    } finally {
      agent.destroy();
      api.close();
    }
  } finally {
    await nginx?.stop();
    await Promise.all(instances.map((s) => stopInstance(s.child)));
  }
}

export async function run(): Promise<BenchResult[]> {
  const wanted = (process.env.INSTANCES_SETUPS ?? 'sqlite-1,postgres-1,postgres-2-nginx').split(',').map((s) => s.trim());
  const setups = wanted.map((name) => {
    const setup = SETUPS.find((s) => s.name === name);
    if (!setup) throw new Error(`INSTANCES_SETUPS: no set-up ${name} (${SETUPS.map((s) => s.name).join(', ')})`);
    return setup;
  });
  const side = Math.round(Math.sqrt(PARAMS));
  const shapes = [{ name: 'dense/kernel', shape: [side, PARAMS / side] }];
  if (side * side !== PARAMS) throw new Error('INSTANCES_PARAMS must be a square (the bench server makes a square kernel)');
  // Encoded before any clock starts (8 distinct ones, reused): the figures are the servers' work, not the clients'.
  const encoded = Array.from({ length: 8 }, (_, i) => {
    const values = new Float32Array(PARAMS);
    for (let j = 0; j < PARAMS; j++) values[j] = ((i + j) % 7) * 1e-3;
    const weights: FlatWeights = { values, shapes };
    return encodeWeights(weights, { taskId: 'bench', modelVersion: 0, dtype: 'float32', meta: { samples: samples(i), loss: 0.5, accuracy: 0.8 } });
  });

  const cluster = setups.some((s) => s.engine === 'postgres') ? await startPostgres({ database: 'bench', durable: !process.env.INSTANCES_PG_THROWAWAY }) : undefined;
  const rounds = new Map<string, Round[]>(setups.map((s) => [s.name, []]));
  try {
    let serial = 0;
    // Alternating (A B C, A B C, …) so that a noisy spell of the shared machine hits every set-up.
    for (let r = 0; r < REPEATS; r++) {
      for (const setup of setups) {
        const round = await runRound(setup, cluster, serial++, encoded);
        rounds.get(setup.name)!.push(round);
        console.log(
          `  ${setup.name} #${r + 1}: ${(CLIENTS / round.seconds).toFixed(1)} updates/s, round ${round.seconds.toFixed(2)} s ` +
            `(uploads ${round.uploadSeconds.toFixed(2)} s, PUT median ${round.medianPutSeconds.toFixed(2)} s, slowest ${round.slowestPutSeconds.toFixed(2)} s), CPU ms/update: instances ${((round.serverCpu * 1000) / CLIENTS).toFixed(1)}, ` +
            `PostgreSQL ${((round.postgresCpu * 1000) / CLIENTS).toFixed(1)}, nginx ${((round.nginxCpu * 1000) / CLIENTS).toFixed(1)}; peak RSS growth ` +
            `${round.peakRss.map((p, i) => ((p - round.idleRss[i]) / MB).toFixed(0)).join(' + ')} MB; load ${round.load.toFixed(1)}`,
        );
      }
    }
  } finally {
    await cluster?.stop();
  }

  const modelMB = (PARAMS * 4) / MB;
  const summary = (name: string) => {
    const list = rounds.get(name)!;
    const perUpdate = (f: (r: Round) => number) => median(list.map((r) => (f(r) * 1000) / CLIENTS));
    return {
      updatesPerSecond: median(list.map((r) => CLIENTS / r.seconds)),
      roundSeconds: median(list.map((r) => r.seconds)),
      uploadUpdatesPerSecond: median(list.map((r) => CLIENTS / r.uploadSeconds)),
      medianPutSeconds: median(list.map((r) => r.medianPutSeconds)),
      slowestPutSeconds: median(list.map((r) => r.slowestPutSeconds)),
      serverCpuMsPerUpdate: perUpdate((r) => r.serverCpu),
      postgresCpuMsPerUpdate: perUpdate((r) => r.postgresCpu),
      nginxCpuMsPerUpdate: perUpdate((r) => r.nginxCpu),
      benchCpuMsPerUpdate: perUpdate((r) => r.benchCpu),
      // The largest instance's growth and resident set (each instance holds at most what one does alone).
      peakGrowthMB: Math.max(...list.flatMap((r) => r.peakRss.map((p, i) => (p - r.idleRss[i]) / MB))),
      peakRssMB: Math.max(...list.flatMap((r) => r.peakRss)) / MB,
      idleRssMB: median(list.flatMap((r) => r.idleRss)) / MB,
      runs: list.map((r) => `${r.seconds.toFixed(2)} s`).join(', '),
      loads: list.map((r) => r.load.toFixed(1)).join(', '),
    };
  };
  const base = setups.some((s) => s.name === 'sqlite-1') ? summary('sqlite-1') : undefined;
  const fmt = (n: number) => Number(n.toPrecision(3));
  const results: BenchResult[] = [];
  for (const setup of setups) {
    const s = summary(setup.name);
    const ratio = base && setup.name !== 'sqlite-1' ? { vsSqliteUpdatesPerSecond: fmt(s.updatesPerSecond / base.updatesPerSecond), vsSqliteRoundTime: fmt(s.roundSeconds / base.roundSeconds) } : {};
    results.push({
      name: `${setup.label}: updates per second over the round (${CLIENTS} clients × ${PARAMS / 1e6}M parameters, FedAvg, first PUT → new version)`,
      value: s.updatesPerSecond,
      unit: 'updates/s',
      target: setup.name === 'sqlite-1' ? '≥ 100' : undefined,
      details: {
        ...ratio,
        roundSeconds: s.roundSeconds,
        runs: s.runs,
        uploadUpdatesPerSecond: s.uploadUpdatesPerSecond,
        medianPutSeconds: s.medianPutSeconds,
        slowestPutSeconds: s.slowestPutSeconds,
        serverCpuMsPerUpdate: s.serverCpuMsPerUpdate,
        postgresCpuMsPerUpdate: s.postgresCpuMsPerUpdate,
        nginxCpuMsPerUpdate: s.nginxCpuMsPerUpdate,
        benchCpuMsPerUpdate: s.benchCpuMsPerUpdate,
        loadAverage: s.loads,
        ...(setup.engine === 'postgres' && {
          postgres: process.env.INSTANCES_PG_THROWAWAY ? 'the test cluster: fsync, synchronous_commit, full_page_writes off, shared_buffers 32MB' : 'durable defaults (fsync, synchronous_commit, full_page_writes on), shared_buffers 32MB',
        }),
      },
    });
    results.push({
      name: `${setup.label}: server memory growth during the round (peak RSS − idle RSS, largest instance)`,
      value: s.peakGrowthMB,
      unit: 'MB',
      target: `< ${(2 * modelMB + 100).toFixed(0)} (2 × model + 100 MB)`,
      details: { peakRssMB: s.peakRssMB, idleRssMB: s.idleRssMB, modelMB },
    });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
