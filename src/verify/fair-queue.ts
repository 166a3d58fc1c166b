// One task at a time, in turns between keys (accounts): the history reads of verification
// (verify/index.ts). A plain queue served them in call order, so an account verifying its 600
// addresses a minute against a large history put every other account's reads behind all of its
// own. Here each account waiting gets one turn in rotation (round-robin, the account that just had
// a turn goes last), and an account's own tasks run in call order. Still one task in flight.

/** Runs `task` when it is `key`'s turn and nothing else runs; settles as the task does. */
export type FairQueue = <T>(key: string, task: () => Promise<T>) => Promise<T>;

export function fairQueue(): FairQueue {
  // Keys with tasks waiting, in turn order (a Map keeps insertion order; delete and set moves a key last).
  const waiting = new Map<string, (() => void)[]>();
  let running: string | null = null;
  const next = () => {
    const served = running!;
    const again = waiting.get(served);
    if (again && waiting.size > 1) { waiting.delete(served); waiting.set(served, again); } // it just had its turn
    const first = waiting.entries().next();
    if (first.done) { running = null; return; }
    const [key, tasks] = first.value;
    waiting.delete(key);
    const start = tasks.shift()!;
    if (tasks.length) waiting.set(key, tasks);
    running = key;
    start();
  };
  return <T>(key: string, task: () => Promise<T>) => new Promise<T>((resolve, reject) => {
    const start = () => { void Promise.resolve().then(task).then(resolve, reject).finally(next); };
    if (running === null) { running = key; start(); return; }
    const tasks = waiting.get(key);
    if (tasks) tasks.push(start); else waiting.set(key, [start]);
  });
}
