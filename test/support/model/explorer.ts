import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Gate, HeldStep } from './gate.js';

/** One protocol operation of a scenario, and how to start it. */
export interface Actor {
  name: string;
  start(): Promise<void>;
}

/** How long the actors may take to reach the gate again (a real Redis answers over TCP). */
const SETTLE_LIMIT_MS = 10_000;

/**
 * Runs the actors to completion, one held step at a time: each time every actor is held at the
 * gate (or done), `check` runs, then `choose` picks which held step goes next (by index in the
 * list of held steps). Returns the steps in the order they ran.
 */
export async function runSchedule(
  gate: Gate,
  actors: Actor[],
  choose: (held: readonly HeldStep[]) => number,
  check: () => Promise<void>,
  trace: string[],
): Promise<void> {
  const done = new Set<string>();
  const finished = actors.map((actor) =>
    gate.run(actor.name, actor.start).finally(() => done.add(actor.name)),
  );
  for (;;) {
    await settle(gate, actors, done);
    await check();
    const held = gate.waiting;
    if (held.length === 0) break;
    const step = held[choose(held) % held.length];
    trace.push(`${step.actor}: ${step.step}`);
    gate.release(step);
  }
  await Promise.all(finished);
}

/** Waits until every unfinished actor is held at the gate and no released call is running. */
async function settle(gate: Gate, actors: Actor[], done: Set<string>): Promise<void> {
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  const quiet = () => !gate.busy && actors.every((a) => done.has(a.name) || gate.isHeld(a.name));
  while (Date.now() < deadline) {
    // Two turns in a row: promise callbacks queued by the last step have run by then.
    if (quiet()) {
      await nextTurn();
      if (quiet()) return;
    }
    await nextTurn();
  }
  throw new Error('the actors did not reach the gate again in time');
}

/**
 * Every schedule of the scenario, depth first: the choices of each run are replayed up to the
 * last one that had an untried alternative, which is taken next. `run` builds a fresh world and
 * runs one schedule with the chooser it is given. Returns how many schedules there were.
 */
export async function everySchedule(
  run: (choose: (held: readonly HeldStep[]) => number) => Promise<void>,
  limit = 20_000,
): Promise<number> {
  let prefix: number[] = [];
  for (let schedules = 1; schedules <= limit; schedules++) {
    const taken: { choice: number; options: number }[] = [];
    await run((held) => {
      const choice = taken.length < prefix.length ? prefix[taken.length] : 0;
      taken.push({ choice, options: held.length });
      return choice;
    });
    let last = taken.length - 1;
    while (last >= 0 && taken[last].choice + 1 >= taken[last].options) last--;
    if (last < 0) return schedules;
    prefix = [...taken.slice(0, last).map((t) => t.choice), taken[last].choice + 1];
  }
  throw new Error(`more than ${limit} schedules: make the scenario smaller`);
}
