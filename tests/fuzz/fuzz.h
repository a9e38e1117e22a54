/*
 * The common part of the fuzz harnesses.  A harness defines
 *
 *	#define FUZZ_NAME "name"	(its corpus is tests/fuzz/corpus/name)
 *	static void fuzz_init(void);	(once per process)
 *	static void fuzz_one(const unsigned char *data, size_t len);
 *
 * and includes this file last.  fuzz_one() gets the input in a malloc'd
 * buffer of exactly len bytes, so that AddressSanitizer reports a read
 * past its end; it checks the parser's invariants with FUZZ_CHECK(),
 * which aborts (a crash to afl-fuzz, a failure to make check).
 *
 * Built with afl-clang-fast (contrib/fuzz.sh) it is an AFL++ persistent
 * mode program.  Built with an ordinary compiler (make check) it replays
 * the files and directories named on its command line once each; with no
 * argument, the committed corpus, $srcdir/tests/fuzz/corpus/FUZZ_NAME.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* A copy of s[0..len) in a buffer of exactly len bytes (NOT terminated). */
static inline char *
fuzz_dup(const void *s, size_t len)
{
	char *p = malloc(len);

	if (p == NULL && len > 0)
		abort();
	if (len > 0)
		memcpy(p, s, len);
	return p;
}

/* A copy of s[0..len) plus a NUL, in a buffer of exactly len + 1 bytes. */
static inline char *
fuzz_strdup(const void *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p == NULL)
		abort();
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* The next piece of data[*pos..len) up to (not including) the byte sep, or
 * to the end; *pos moves past the separator.  Returns its length. */
static inline size_t
fuzz_split(const unsigned char *data, size_t len, size_t *pos,
    unsigned char sep, const unsigned char **piece)
{
	const unsigned char *p = data + *pos, *e;
	size_t n = len - *pos;

	*piece = p;
	if ((e = memchr(p, sep, n)) != NULL) {
		*pos += (size_t)(e - p) + 1;
		return (size_t)(e - p);
	}
	*pos = len;
	return n;
}

static void fuzz_init(void);
static void fuzz_one(const unsigned char *data, size_t len);

static void
fuzz_run(const unsigned char *data, size_t len)
{
	char *copy = fuzz_dup(data, len);

	fuzz_one((const unsigned char *)copy, len);
	free(copy);
}

#ifdef __AFL_FUZZ_TESTCASE_LEN

__AFL_FUZZ_INIT();

int
main(void)
{
	unsigned char *buf;

	fuzz_init();
	__AFL_INIT();
	buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(10000))
		fuzz_run(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
	return 0;
}

#else /* the replay program */

static int
fuzz_replay_file(const char *path)
{
	FILE *f;
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		perror(path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	fuzz_run(buf, len);
	free(buf);
	return 0;
}

static int
fuzz_entry_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays a file, or every regular file of a directory (sorted, not
 * recursive).  Returns how many inputs ran, -1 on error. */
static int
fuzz_replay_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	char **names = NULL, full[4096];
	size_t n = 0, i;
	int count = 0;

	if (stat(path, &st) == -1) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return fuzz_replay_file(path) == 0 ? 1 : -1;
	if ((d = opendir(path)) == NULL) {
		perror(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof(*names))) == NULL ||
		    (names[n] = strdup(de->d_name)) == NULL)
			abort();
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), fuzz_entry_cmp);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			if (fuzz_replay_file(full) == -1)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	char dflt[4096];
	const char *srcdir;
	int i, n, total = 0;

	fuzz_init();
	if (argc < 2) {
		if ((srcdir = getenv("srcdir")) == NULL)
			srcdir = ".";
		snprintf(dflt, sizeof(dflt), "%s/tests/fuzz/corpus/%s",
		    srcdir, FUZZ_NAME);
		if ((n = fuzz_replay_path(dflt)) <= 0) {
			fprintf(stderr, "fuzz_%s: no inputs in %s\n",
			    FUZZ_NAME, dflt);
			return 1;
		}
		total = n;
	}
	for (i = 1; i < argc; i++) {
		if ((n = fuzz_replay_path(argv[i])) < 0)
			return 1;
		total += n;
	}
	printf("fuzz_%s: %d inputs replayed, all invariants hold\n",
	    FUZZ_NAME, total);
	return 0;
}

#endif /* __AFL_FUZZ_TESTCASE_LEN */
#endif /* FUZZ_H */
