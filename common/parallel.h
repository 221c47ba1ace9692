/*
 * A parallel for-loop over indexes, for CPU-bound work on independent items (locating values
 * in thousands of YAML files, rewriting them). Threads take the next index from a shared
 * counter, so uneven items balance themselves. `fn` must be safe to call concurrently for
 * different indexes; it cannot fail (record per-item errors in the item).
 *
 *	parallel_for(n, 0, rewrite_one, &ctx);	// 0 threads: one per online CPU, at most 8
 */
#ifndef DOCKERBUMP_COMMON_PARALLEL_H
#define DOCKERBUMP_COMMON_PARALLEL_H

#include <stddef.h>

void parallel_for(size_t n, int threads, void (*fn)(size_t i, void *ctx), void *ctx);

#endif
