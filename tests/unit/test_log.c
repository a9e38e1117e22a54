#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Runs fn with fd (1 or 2) redirected to a pipe; returns what it wrote. */
static char *
capture(int fd, void (*fn)(void))
{
	static char buf[4 * LOG_LINE_MAX];
	int p[2], saved;
	ssize_t n, total = 0;

	cr_assert_eq(pipe(p), 0);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	saved = dup(fd);
	dup2(p[1], fd);
	fn();
	dup2(saved, fd);
	close(saved);
	close(p[1]);
	while ((n = read(p[0], buf + total, sizeof(buf) - 1 - total)) > 0)
		total += n;
	close(p[0]);
	buf[total] = '\0';
	return buf;
}

static void
write_access(void)
{
	log_access("%s %d", "GET /b/k", 200);
}

static void
write_error(void)
{
	log_error("backend %s", "gone");
}

static void
write_long(void)
{
	char big[3 * LOG_LINE_MAX];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_access("%s", big);
}

Test(log, access_line_on_stdout_in_one_piece)
{
	log_set_access(true);
	cr_assert_str_eq(capture(1, write_access), "GET /b/k 200\n");
}

Test(log, access_log_can_be_turned_off)
{
	log_set_access(false);
	cr_assert_str_eq(capture(1, write_access), "");
	log_set_access(true);
}

Test(log, errors_on_stderr_with_time_and_level)
{
	char *out = capture(2, write_error);

	cr_assert_not_null(strstr(out, "storage-proxy: error: backend gone\n"), "%s", out);
	cr_assert(out[4] == '-' && out[10] == 'T', "ISO time first: %s", out);
}

Test(log, long_lines_are_cut_not_split)
{
	char *out;

	log_set_access(true);
	out = capture(1, write_long);
	cr_assert_eq(strlen(out), LOG_LINE_MAX - 1, "one line of at most the cap");
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1,
	    "exactly one newline, at the end");
}

Test(log, escape_like_nginx)
{
	char out[64];

	cr_assert_eq(log_escape(out, sizeof(out), "GET", 3), 3);
	cr_assert_str_eq(out, "GET");
	log_escape(out, sizeof(out), "/a\"b\\c\x01\xff d", 10);
	cr_assert_str_eq(out, "/a\\x22b\\x5Cc\\x01\\xFF d");
	/* A NUL inside is escaped too: the length, not strlen, counts. */
	log_escape(out, sizeof(out), "a\0b", 3);
	cr_assert_str_eq(out, "a\\x00b");
}

Test(log, escape_cuts_whole_escapes)
{
	char out[6];

	cr_assert_eq(log_escape(out, sizeof(out), "ab\"cd", 5), 2);
	cr_assert_str_eq(out, "ab");
	cr_assert_eq(log_escape(out, sizeof(out), "abcdefgh", 8), 5);
	cr_assert_str_eq(out, "abcde");
	cr_assert_eq(log_escape(out, 1, "abc", 3), 0);
	cr_assert_str_eq(out, "");
}
