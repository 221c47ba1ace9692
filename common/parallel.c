#include "common/parallel.h"

#include <pthread.h>
#include <unistd.h>

#include "common/banned.h"

#define MAX_THREADS 8

struct pool {
	size_t n, next;
	pthread_mutex_t lock;
	void (*fn)(size_t i, void *ctx);
	void *ctx;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		p->fn(i, p->ctx);
	}
}

void parallel_for(size_t n, int threads, void (*fn)(size_t i, void *ctx), void *ctx)
{
	struct pool p = {n, 0, PTHREAD_MUTEX_INITIALIZER, fn, ctx};
	pthread_t tids[MAX_THREADS];
	int i, started = 0;

	if (threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
	}
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;
	/* The calling thread is one of the workers. */
	for (i = 1; i < threads; i++)
		if (pthread_create(&tids[started], NULL, worker, &p) == 0)
			started++;
	worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&p.lock);
}
