/*
 * The floor of a cold scan: libyaml's own event parser over every item YAML of a repository,
 * read from the git objects, with nothing else around it. The benchmark driver prints the
 * scan's times beside these.
 *
 *	yaml_floor REPO [RUNS [THREADS]]
 *
 * Walks the tree of HEAD, keeps the blobs the default include globs select
 * (Packs/<pack>/{Integrations,Scripts}/[<dir>/]<name>.yml), reads them all into memory, then
 * runs yaml_parser_parse() to the end of each one (or to its first error), RUNS times (best
 * wall time kept), first on one thread and then on THREADS threads (default 2). Prints one
 * line of `key value` pairs:
 *
 *	blobs N bytes B read_s R parse1_s P1 parse1_cpu_s C1 parseT_s PT threads T events E
 *
 * Linked only to libyaml and libgit2, so it measures them and not this project's code.
 */
#include <git2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

struct blob {
	char *data;
	size_t len;
};

struct blobs {
	git_repository *repo;
	struct blob *v;
	size_t nr, alloc, bytes;
	int failed;
};

static double now(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether the segment [s, e) is one of the two item folders. */
static int item_folder(const char *s, size_t n)
{
	return (n == 12 && !memcmp(s, "Integrations", 12)) || (n == 7 && !memcmp(s, "Scripts", 7));
}

/* The default include globs, spelled out: Packs/P/(Integrations|Scripts)/[D/]N.yml. */
static int wanted(const char *path)
{
	const char *seg[6];
	size_t nseg = 0, len = strlen(path);
	const char *p = path;

	if (len < 4 || strcmp(path + len - 4, ".yml"))
		return 0;
	for (;;) {
		if (nseg == 6)
			return 0;
		seg[nseg++] = p;
		p = strchr(p, '/');
		if (!p)
			break;
		p++;
	}
	if ((nseg != 4 && nseg != 5) || strncmp(seg[0], "Packs/", 6) || seg[1][0] == '/')
		return 0;
	return item_folder(seg[2], (size_t)(seg[3] - seg[2] - 1)) && seg[nseg - 1][0];
}

static int walk(const char *root, const git_tree_entry *entry, void *payload)
{
	struct blobs *b = payload;
	char path[4096];
	git_blob *blob;

	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(entry)) >=
	        sizeof(path) ||
	    !wanted(path))
		return 0;
	if (git_blob_lookup(&blob, b->repo, git_tree_entry_id(entry)) < 0) {
		b->failed = 1;
		return -1;
	}
	if (b->nr == b->alloc) {
		b->alloc = b->alloc ? 2 * b->alloc : 1024;
		b->v = realloc(b->v, b->alloc * sizeof(*b->v));
		if (!b->v)
			abort();
	}
	b->v[b->nr].len = (size_t)git_blob_rawsize(blob);
	b->v[b->nr].data = malloc(b->v[b->nr].len + 1);
	if (!b->v[b->nr].data)
		abort();
	memcpy(b->v[b->nr].data, git_blob_rawcontent(blob), b->v[b->nr].len);
	b->bytes += b->v[b->nr].len;
	b->nr++;
	git_blob_free(blob);
	return 0;
}

/* Parses one blob to its end or its first error; returns the number of events. */
static size_t parse_one(const struct blob *b)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	size_t events = 0;
	int done = 0;

	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)b->data, b->len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev))
			break;
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		events++;
	}
	yaml_parser_delete(&parser);
	return events;
}

struct pool {
	const struct blobs *b;
	size_t next, events;
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t i, events = 0;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->b->nr)
			break;
		events += parse_one(&p->b->v[i]);
	}
	pthread_mutex_lock(&p->lock);
	p->events += events;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Parses every blob on `threads` threads; returns the wall time. */
static double parse_all(const struct blobs *b, int threads, size_t *events)
{
	struct pool p = {b, 0, 0, PTHREAD_MUTEX_INITIALIZER};
	pthread_t tids[64];
	double t = now(CLOCK_MONOTONIC);
	int i;

	for (i = 1; i < threads; i++)
		if (pthread_create(&tids[i], NULL, worker, &p))
			abort();
	worker(&p);
	for (i = 1; i < threads; i++)
		pthread_join(tids[i], NULL);
	*events = p.events;
	return now(CLOCK_MONOTONIC) - t;
}

int main(int argc, char **argv)
{
	struct blobs b = {0};
	git_object *head = NULL;
	git_tree *tree = NULL;
	int runs = argc > 2 ? atoi(argv[2]) : 3, threads = argc > 3 ? atoi(argv[3]) : 2, r;
	double t, read_s, best1 = 0, best1_cpu = 0, bestn = 0, w, c;
	size_t i, events = 0;

	if (argc < 2 || runs < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: yaml_floor REPO [RUNS [THREADS]]\n");
		return 2;
	}
	git_libgit2_init();
	t = now(CLOCK_MONOTONIC);
	if (git_repository_open(&b.repo, argv[1]) < 0 ||
	    git_revparse_single(&head, b.repo, "HEAD^{tree}") < 0 ||
	    git_tree_lookup(&tree, b.repo, git_object_id(head)) < 0 ||
	    git_tree_walk(tree, GIT_TREEWALK_PRE, walk, &b) < 0 || b.failed) {
		const git_error *e = git_error_last();
		fprintf(stderr, "yaml_floor: '%s': %s\n", argv[1], e ? e->message : "unreadable");
		return 1;
	}
	read_s = now(CLOCK_MONOTONIC) - t;

	for (r = 0; r < runs; r++) {
		double cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
		w = parse_all(&b, 1, &events);
		c = now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
		if (!r || w < best1)
			best1 = w, best1_cpu = c;
		w = parse_all(&b, threads, &events);
		if (!r || w < bestn)
			bestn = w;
	}
	printf("blobs %zu bytes %zu read_s %.4f parse1_s %.4f parse1_cpu_s %.4f parseT_s %.4f "
	       "threads %d events %zu\n",
	       b.nr, b.bytes, read_s, best1, best1_cpu, bestn, threads, events);

	for (i = 0; i < b.nr; i++)
		free(b.v[i].data);
	free(b.v);
	git_tree_free(tree);
	git_object_free(head);
	git_repository_free(b.repo);
	git_libgit2_shutdown();
	return 0;
}
