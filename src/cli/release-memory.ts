// One full garbage collection once the agent's startup is over: its full syncs done, and the standby rsyncs
// they leave ended (STANDBY_IDLE_MS later).
// Why: the launcher keeps V8's memory reducer asleep and its young generation small (src/cli/launcher.cts),
// so what the startup promoted to the old generation (garbage too, and the Buffers that hold malloc memory)
// would stay until the old generation fills again, which an idle agent never does. The reducer did this work
// at a moment of its own, 17 to 100 s after the start, when the agent was already idle; this is one GC at a
// moment the agent chooses (idle sync agent: ~3 MiB less RSS than without it).
import { runInNewContext } from 'node:vm';
import { STANDBY_IDLE_MS } from '../rsync/transport.js';

/** Room for the standbys' ends to be handled first. */
const AFTER_STANDBYS_MS = 2000;

/** Schedules the GC on a timer that keeps nothing alive; nothing happens without the launcher's --expose-gc. */
export function releaseStartupMemory(): void {
  // --expose-gc gives new contexts (not this one) a gc(), which collects the whole heap.
  setTimeout(() => runInNewContext('if (typeof gc === "function") gc()'), STANDBY_IDLE_MS + AFTER_STANDBYS_MS).unref();
}
