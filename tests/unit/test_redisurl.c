#include <criterion/criterion.h>
#include <string.h>

#include "redisurl.h"

static struct redisurl u;
static char err[256];

Test(redisurl, host_only_takes_the_defaults)
{
	cr_assert_eq(redisurl_parse("redis://cache", &u, err, sizeof(err)), 0);
	cr_assert_str_eq(u.host, "cache");
	cr_assert_eq(u.port, 6379);
	cr_assert_eq(u.db, 0);
	cr_assert_str_eq(u.user, "");
	cr_assert_str_eq(u.password, "");
}

Test(redisurl, full_form)
{
	cr_assert_eq(redisurl_parse("redis://ops:s%40cret@10.0.0.5:6380/3",
	    &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(u.host, "10.0.0.5");
	cr_assert_eq(u.port, 6380);
	cr_assert_eq(u.db, 3);
	cr_assert_str_eq(u.user, "ops");
	cr_assert_str_eq(u.password, "s@cret");
}

Test(redisurl, password_only_and_ipv6)
{
	cr_assert_eq(redisurl_parse("redis://:pw@[::1]:7000", &u, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(u.host, "::1");
	cr_assert_eq(u.port, 7000);
	cr_assert_str_eq(u.user, "");
	cr_assert_str_eq(u.password, "pw");
	cr_assert_eq(redisurl_parse("redis://pw2@h/", &u, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_str_eq(u.password, "pw2");
	cr_assert_eq(u.db, 0);
}

Test(redisurl, refuses_what_it_cannot_use)
{
	const char *bad[] = {
		"rediss://h", "http://h", "redis://", "redis://h:0",
		"redis://h:70000", "redis://h:x", "redis://h/db",
		"redis://[::1", "redis://h?x=1", "redis://:%zz@h",
		"redis://:%00@h", "redis://h:6379/ 1",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(redisurl_parse(bad[i], &u, err, sizeof(err)), -1,
		    "accepted %s", bad[i]);
		cr_assert_neq(err[0], '\0', "no message for %s", bad[i]);
	}
}

Test(redisurl, never_quotes_the_password)
{
	cr_assert_eq(redisurl_parse("redis://u:topsecret%zz@h", &u, err,
	    sizeof(err)), -1);
	cr_assert_null(strstr(err, "topsecret"));
}
