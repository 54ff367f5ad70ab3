/**
 * Bytes a benchmarked server allocates on the JavaScript heap over a phase, from V8's own GC
 * records (`v8.GCProfiler`): the heap growth between collections plus what each collection
 * found, so nothing is sampled and the figure does not depend on when the collections ran.
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';

export class AllocationMeter {
  private profiler?: GCProfiler;
  private usedAtStart = 0;

  start(): void {
    this.profiler?.stop();
    this.profiler = new GCProfiler();
    this.usedAtStart = getHeapStatistics().used_heap_size;
    this.profiler.start();
  }

  /** Bytes allocated since `start`. */
  stop(): number {
    const statistics = this.profiler?.stop()?.statistics ?? [];
    this.profiler = undefined;
    let allocated = 0;
    let used = this.usedAtStart;
    for (const gc of statistics) {
      allocated += gc.beforeGC.heapStatistics.usedHeapSize - used;
      used = gc.afterGC.heapStatistics.usedHeapSize;
    }
    return allocated + getHeapStatistics().used_heap_size - used;
  }
}
