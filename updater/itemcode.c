#include "updater/itemcode.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
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

int item_read_path(struct buf *out, const struct scan_opts *opts, struct gitrepo *repo,
                   const char *path, size_t cap, struct db_err *err)
{
	if (opts->worktree) {
		char *full = xasprintf("%s/%s", opts->dir, path);
		int ret = file_read(out, full, cap, err);
		free(full);
		return ret;
	}
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

static void walk_disk(struct item_code *c, const char *top, const char *rel, size_t *total)
{
	char *dir = xasprintf("%s/%s", top, rel);
	DIR *d = opendir(dir);
	struct dirent *de;

	free(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *sub, *full;
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s%s%s", rel, *rel ? "/" : "", de->d_name);
		full = xasprintf("%s/%s", top, sub);
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk_disk(c, top, sub, total);
		} else if (S_ISREG(st.st_mode) &&
		           *total + (size_t)st.st_size <= ITEMCODE_FILES_MAX) {
			struct buf data = BUF_INIT;
			struct db_err err = DB_ERR_INIT;
			if (!file_read(&data, full, ITEMCODE_FILES_MAX, &err)) {
				add_file(c, sub, data.ptr, data.len);
				*total += data.len;
			}
			buf_release(&data);
		}
		free(sub);
		free(full);
	}
	closedir(d);
}

static void load_folder(struct item_code *c, const struct scan_opts *opts, struct gitrepo *repo,
                        const char *dir)
{
	if (opts->worktree) {
		char *top = xasprintf("%s/%s", opts->dir, dir);
		size_t total = 0;
		walk_disk(c, top, "", &total);
		free(top);
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
		load_folder(out, opts, repo, dir);
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
