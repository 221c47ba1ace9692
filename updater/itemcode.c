/*
 * Reading an item's code for verification. From the working tree (`verify`), every path is
 * walked one component at a time from the repository's folder with O_NOFOLLOW: a symbolic
 * link anywhere on the way (the file, or a folder above it), or anything but a regular file
 * or a folder, is refused with an error naming the path, so nothing outside the repository
 * (a host file, /proc/self/environ) is ever read into an item, a traceback or a report.
 */
#include "updater/itemcode.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "updater/yamledit.h"
#include "common/banned.h"

#define CODE_MAX (16u << 20)

void item_code_init(struct item_code *c)
{
	memset(c, 0, sizeof(*c));
}

void item_code_release(struct item_code *c)
{
	size_t i;
	free(c->name);
	free(c->code);
	free(c->code_path);
	for (i = 0; i < c->nr_files; i++) {
		free((char *)c->files[i].path);
		free((void *)c->files[i].data);
	}
	free(c->files);
	item_code_init(c);
}

static int refuse_link(const char *path, struct db_err *err)
{
	return db_err_set(err, DB_EPARSE,
	                  "'%s': a symbolic link on the way; verify reads only regular files "
	                  "inside the repository",
	                  path);
}

/*
 * Opens the folder `dir` (repository-relative, "" for the top) below `top` without following
 * any symbolic link. `path` names the file the caller is after, for messages.
 */
static int open_dir_in_repo(int *out, const char *top, const char *dir, const char *path,
                            struct db_err *err)
{
	int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *p = dir;

	if (fd < 0)
		return db_err_set(err, DB_ENOTFOUND, "'%s': %s", top, strerror(errno));
	while (*p) {
		size_t n = strcspn(p, "/");
		char *comp = xstrndup(p, n);
		int sub;
		if (!n || !strcmp(comp, ".") || !strcmp(comp, "..")) {
			free(comp);
			close(fd);
			return db_err_set(err, DB_EPARSE, "'%s': not a path inside the repository",
			                  path);
		}
		sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			int e = errno;
			struct stat st;
			int link =
			    fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
			free(comp);
			close(fd);
			if (link || e == ELOOP)
				return refuse_link(path, err);
			return db_err_set(err, e == ENOENT ? DB_ENOTFOUND : DB_EPARSE, "'%s': %s",
			                  path, strerror(e));
		}
		free(comp);
		close(fd);
		fd = sub;
		p += n;
		if (*p == '/')
			p++;
	}
	*out = fd;
	return 0;
}

/* Reads the regular file `name` of the folder `dirfd` (never through a link, never a FIFO or
 * a device). */
static int read_at(struct buf *out, int dirfd, const char *name, const char *path, size_t cap,
                   struct db_err *err)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char chunk[65536];
	ssize_t n;
	int ret = 0;

	if (fd < 0) {
		int e = errno;
		if (e == ELOOP ||
		    (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)))
			return refuse_link(path, err);
		return db_err_set(err, e == ENOENT ? DB_ENOTFOUND : DB_EPARSE, "'%s': %s", path,
		                  strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return db_err_set(err, DB_EPARSE, "'%s': not a regular file", path);
	}
	if ((unsigned long long)st.st_size > cap) {
		close(fd);
		return db_err_set(err, DB_ETOOBIG, "'%s': larger than %zu bytes", path, cap);
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = db_err_set(err, DB_ERROR, "'%s': %s", path, strerror(errno));
			break;
		}
		if (out->len + (size_t)n > cap) {
			ret = db_err_set(err, DB_ETOOBIG, "'%s': larger than %zu bytes", path, cap);
			break;
		}
		buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return ret;
}

/* The file at repository path `path` below `top`, refusing links on the way. */
static int read_in_repo(struct buf *out, const char *top, const char *path, size_t cap,
                        struct db_err *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
	const char *name = slash ? slash + 1 : path;
	int dirfd = -1, ret;

	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || path[0] == '/')
		ret = db_err_set(err, DB_EPARSE, "'%s': not a path inside the repository", path);
	else if ((ret = open_dir_in_repo(&dirfd, top, dir, path, err)) == 0)
		ret = read_at(out, dirfd, name, path, cap, err);
	if (dirfd >= 0)
		close(dirfd);
	free(dir);
	return ret;
}

int item_read_path(struct buf *out, const struct scan_opts *opts, struct gitrepo *repo,
                   const char *path, size_t cap, struct db_err *err)
{
	if (opts->worktree)
		return read_in_repo(out, opts->dir, path, cap, err);
	return gitrepo_read_file(out, repo, opts->commit, path, cap, err);
}

static int read_path(struct buf *out, const struct scan_opts *opts, struct gitrepo *repo,
                     const char *path, struct db_err *err)
{
	return item_read_path(out, opts, repo, path, CODE_MAX, err);
}

static void add_file(struct item_code *c, const char *rel, const void *data, size_t len)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, data, len);
	copy[len] = '\0';
	ALLOC_GROW(c->files, c->nr_files + 1, c->alloc_files);
	c->files[c->nr_files].path = xstrdup(rel);
	c->files[c->nr_files].data = copy;
	c->files[c->nr_files].len = len;
	c->nr_files++;
}

struct tree_walk {
	struct item_code *c;
	git_repository *repo;
	size_t total;
};

static int tree_file_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct tree_walk *w = payload;
	git_blob *blob = NULL;
	char *rel;

	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		return 0;
	if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(entry)) < 0)
		return 0;
	if (w->total + (size_t)git_blob_rawsize(blob) <= ITEMCODE_FILES_MAX) {
		rel = xasprintf("%s%s", root, git_tree_entry_name(entry));
		add_file(w->c, rel, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		w->total += (size_t)git_blob_rawsize(blob);
		free(rel);
	}
	git_blob_free(blob);
	return 0;
}

/* The files of the folder `dirfd`, recursively: `rel` is its path in the item's folder ("" at
 * the top), `dir` the item folder's repository path, for messages. A link, or anything but
 * files and folders, refuses the item. Dot files are not the item's. */
static int walk_disk(struct item_code *c, int dirfd, const char *dir, const char *rel,
                     size_t *total, struct db_err *err)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		close(dirfd);
		return db_err_set(err, DB_ERROR, "'%s/%s': %s", dir, rel, strerror(errno));
	}
	while (!ret && (de = readdir(d))) {
		char *sub, *path;
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s%s%s", rel, *rel ? "/" : "", de->d_name);
		path = xasprintf("%s/%s", dir, sub);
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = db_err_set(err, DB_ERROR, "'%s': %s", path, strerror(errno));
		} else if (S_ISLNK(st.st_mode)) {
			ret = refuse_link(path, err);
		} else if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, de->d_name,
			                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			ret = fd < 0 ? refuse_link(path, err)
			             : walk_disk(c, fd, dir, sub, total, err);
		} else if (!S_ISREG(st.st_mode)) {
			ret = db_err_set(err, DB_EPARSE, "'%s': not a regular file", path);
		} else if (*total + (size_t)st.st_size <= ITEMCODE_FILES_MAX) {
			struct buf data = BUF_INIT;
			ret = read_at(&data, dirfd, de->d_name, path, ITEMCODE_FILES_MAX, err);
			if (!ret) {
				add_file(c, sub, data.ptr, data.len);
				*total += data.len;
			}
			buf_release(&data);
		}
		free(path);
		free(sub);
	}
	closedir(d);
	return ret;
}

static int load_folder(struct item_code *c, const struct scan_opts *opts, struct gitrepo *repo,
                       const char *dir, struct db_err *err)
{
	if (opts->worktree) {
		size_t total = 0;
		int fd, ret;
		if ((ret = open_dir_in_repo(&fd, opts->dir, dir, dir, err)) == 0)
			ret = walk_disk(c, fd, dir, "", &total, err);
		return ret;
	} else {
		git_commit *commit = NULL;
		git_tree *tree = NULL, *sub = NULL;
		git_tree_entry *entry = NULL;
		struct tree_walk w = {c, gitrepo_git(repo), 0};
		if (!git_commit_lookup(&commit, w.repo, opts->commit) &&
		    !git_commit_tree(&tree, commit) && !git_tree_entry_bypath(&entry, tree, dir) &&
		    !git_tree_lookup(&sub, w.repo, git_tree_entry_id(entry)))
			git_tree_walk(sub, GIT_TREEWALK_PRE, tree_file_cb, &w);
		git_tree_free(sub);
		git_tree_entry_free(entry);
		git_tree_free(tree);
		git_commit_free(commit);
		return 0;
	}
}

int item_code_load(struct item_code *out, const struct scan_opts *opts, struct gitrepo *repo,
                   const struct item *it, int with_files, struct db_err *err)
{
	struct buf yaml = BUF_INIT, code = BUF_INIT;
	struct yaml_doc doc;
	const struct yaml_value *script;
	const char *slash = strrchr(it->path, '/'), *base = slash ? slash + 1 : it->path;
	const char *dot = strrchr(base, '.');
	char *dir = slash ? xstrndup(it->path, (size_t)(slash - it->path)) : xstrdup("");
	int ret, inline_code;

	memset(&doc, 0, sizeof(doc));
	out->name = xstrndup(base, dot ? (size_t)(dot - base) : strlen(base));
	ret = read_path(&yaml, opts, repo, it->path, err);
	if (ret)
		goto out;
	yaml_doc_parse(&doc, yaml.ptr, yaml.len);
	script = it->kind == ITEM_INTEGRATION ? &doc.script[YK_SCRIPT] : &doc.top[YK_SCRIPT];
	inline_code = script->kind == YV_SCALAR && script->text_len > 0 &&
	              strcmp(script->text, "-") && strncmp(script->text, "file:", 5);
	if (inline_code) {
		out->code = xstrdup(script->text);
		out->code_path = xstrdup(it->path);
	} else {
		out->code_path = xasprintf("%s%s%s.py", dir, *dir ? "/" : "", out->name);
		ret = read_path(&code, opts, repo, out->code_path, err);
		if (ret)
			goto out;
		out->code = buf_detach(&code, NULL);
	}
	if (with_files && !inline_code)
		ret = load_folder(out, opts, repo, dir, err);
out:
	yaml_doc_release(&doc);
	buf_release(&yaml);
	buf_release(&code);
	free(dir);
	return ret;
}

void item_modules_init(struct item_modules *m)
{
	memset(m, 0, sizeof(*m));
}

void item_modules_release(struct item_modules *m)
{
	free(m->common_server_python);
	free(m->common_server_user_python);
	free(m->demistomock);
	item_modules_init(m);
}

static int load_optional(char **out, const struct scan_opts *opts, struct gitrepo *repo,
                         const char *path, struct db_err *err)
{
	struct buf b = BUF_INIT;
	struct db_err e = DB_ERR_INIT;
	int ret = read_path(&b, opts, repo, path, &e);

	if (ret == DB_ENOTFOUND) {
		ret = 0;
	} else if (ret) {
		db_err_set(err, ret, "%s", e.msg);
	} else {
		*out = buf_detach(&b, NULL);
	}
	buf_release(&b);
	return ret;
}

int item_modules_load(struct item_modules *out, const struct scan_opts *opts, struct gitrepo *repo,
                      struct db_err *err)
{
	int ret;
	if ((ret = load_optional(&out->common_server_python, opts, repo, ITEMCODE_CSP_PATH, err)) ||
	    (ret = load_optional(&out->common_server_user_python, opts, repo, ITEMCODE_CSUP_PATH,
	                         err)))
		return ret;
	return load_optional(&out->demistomock, opts, repo, ITEMCODE_MOCK_PATH, err);
}

int item_verify_opts(struct verify_opts *o, struct item_modules *mods, const struct config *cfg,
                     const struct scan_opts *opts, struct gitrepo *repo, struct db_err *err)
{
	int ret;

	verify_opts_init(o);
	o->level = cfg->verify.level;
	o->runtime = cfg->verify.runtime;
	o->timeout_s = cfg->verify.timeout_s;
	o->jobs = cfg->verify.jobs;
	o->memory = cfg->verify.memory;
	o->pids = cfg->verify.pids;
	o->cpus = cfg->verify.cpus;
	o->prune_images = cfg->verify.prune_images;
	o->cache_dir = cfg->cli.no_cache ? "" : NULL;
	o->no_reuse = cfg->cli.no_reuse;
	o->progress = log_get_config()->progress;
	if ((ret = item_modules_load(mods, opts, repo, err)))
		return ret;
	o->common_server_python = mods->common_server_python;
	o->common_server_user_python = mods->common_server_user_python;
	o->demistomock = mods->demistomock;
	return 0;
}

/* A PATH as the scanner's include glob: repository-relative, a folder matching below it. */
int item_path_glob(char **out, const char *dir, const char *path, struct db_err *err)
{
	char top[PATH_MAX], full[PATH_MAX];
	char *joined = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", dir, path);
	size_t n;
	int is_dir;

	if (!realpath(dir, top) || !realpath(joined, full)) {
		free(joined);
		return db_err_set(err, DB_ENOTFOUND, "'%s': no such file or folder", path);
	}
	free(joined);
	n = strlen(top);
	if (strncmp(full, top, n) || (full[n] && full[n] != '/'))
		return db_err_set(err, DB_EUSAGE, "'%s' is outside the repository '%s' (see -C)",
		                  path, dir);
	is_dir = !strstr(full + n, ".yml") && !strstr(full + n, ".yaml");
	if (!full[n])
		*out = xstrdup("**");
	else if (is_dir)
		*out = xasprintf("%s/**", full + n + 1);
	else
		*out = xstrdup(full + n + 1);
	return 0;
}
