/*
 * Fixture files for the unit tests that read certificates and keys from
 * disk: a temporary directory (made by the test's setup with mkdtemp(),
 * removed by its teardown) and files written in it.
 */
#ifndef FIXTURE_FILES_H
#define FIXTURE_FILES_H

#include <criterion/criterion.h>
#include <stdio.h>

static char dir[64];

/* The path of name in dir; with content, the file is written first.
 * Four paths live at a time (a test names a certificate and a key). */
static const char *
file(const char *name, const char *content)
{
	static char path[4][128];
	static int n;
	char *p = path[n++ % 4];
	FILE *f;

	snprintf(p, 128, "%s/%s", dir, name);
	if (content != NULL) {
		cr_assert_not_null(f = fopen(p, "w"));
		fputs(content, f);
		fclose(f);
	}
	return p;
}

#endif
