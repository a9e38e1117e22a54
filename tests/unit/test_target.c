#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

Test(target, accepts_s3_targets_verbatim)
{
	cr_assert_eq(target_validate("/"), 0);
	cr_assert_eq(target_validate("/b?list-type=2&prefix=a%2Fb+c&uploads"), 0);
	cr_assert_eq(target_validate("/bucket/key%20with%20space?X-Amz-Signature=ab"), 0);
	cr_assert_eq(target_validate("/b/a/../c//d"), 0);
	/* The backend decides what these mean, as it would directly. */
	cr_assert_eq(target_validate("/a#frag"), 0);
	cr_assert_eq(target_validate("/caf\xc3\xa9"), 0);
}

Test(target, refuses_unsafe_targets)
{
	char *big;

	cr_assert_eq(target_validate(""), -1);
	cr_assert_eq(target_validate("bucket/key"), -1);
	cr_assert_eq(target_validate("http://host/bucket"), -1);
	cr_assert_eq(target_validate("*"), -1);
	cr_assert_eq(target_validate("/a b"), -1);
	cr_assert_eq(target_validate("/a\r\nX-Evil: 1"), -1);
	cr_assert_eq(target_validate("/a\tb"), -1);
	cr_assert_eq(target_validate("/a\x7f"), -1);
	big = malloc(TARGET_MAX + 2);
	memset(big, 'a', TARGET_MAX + 1);
	big[0] = '/';
	big[TARGET_MAX + 1] = '\0';
	cr_assert_eq(target_validate(big), -1);
	big[TARGET_MAX] = '\0';
	cr_assert_eq(target_validate(big), 0);
	free(big);
}

Test(target, base_urls)
{
	cr_assert_eq(target_validate_base("http://minio:9000"), 0);
	cr_assert_eq(target_validate_base("https://s3.amazonaws.com/"), 0);
	cr_assert_eq(target_validate_base("HTTP://[::1]:9000"), 0);
	cr_assert_eq(target_validate_base("ftp://x"), -1);
	cr_assert_eq(target_validate_base("http://"), -1);
	cr_assert_eq(target_validate_base("http:///path"), -1);
	cr_assert_eq(target_validate_base("http://h?x=1"), -1);
	cr_assert_eq(target_validate_base("minio:9000"), -1);
}

Test(target, upstream_path_keeps_target_as_sent)
{
	char *u;

	u = target_upstream_path("http://minio:9000/", "/b/k?x=%2F&y#f");
	cr_assert_str_eq(u, "/b/k?x=%2F&y#f");
	free(u);
	u = target_upstream_path("http://minio:9000", "/");
	cr_assert_str_eq(u, "/");
	free(u);
	u = target_upstream_path("https://h/prefix//", "/b/../k");
	cr_assert_str_eq(u, "/prefix/b/../k");
	free(u);
}

Test(target, redaction_hides_signatures_only)
{
	char out[256];

	target_redact("/b/k?response-content-type=x&X-Amz-Algorithm=AWS4"
	    "&X-Amz-Signature=abcdef&X-Amz-Security-Token=tok&x=1", out,
	    sizeof(out));
	cr_assert_str_eq(out, "/b/k?response-content-type=x&X-Amz-Algorithm=AWS4"
	    "&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED&x=1");
	target_redact("/b/k?AWSAccessKeyId=A&Signature=s%3D&Expires=1", out,
	    sizeof(out));
	cr_assert_str_eq(out, "/b/k?AWSAccessKeyId=A&Signature=REDACTED&Expires=1");
	target_redact("/b/x-amz-signature=1?uploads", out, sizeof(out));
	cr_assert_str_eq(out, "/b/x-amz-signature=1?uploads", "path untouched");
	target_redact("/b/k?x-amz-signature", out, sizeof(out));
	cr_assert_str_eq(out, "/b/k?x-amz-signature", "no value, nothing to hide");
}

Test(target, redaction_cuts_to_fit)
{
	char out[12];

	target_redact("/b/k?X-Amz-Signature=abcdef", out, sizeof(out));
	cr_assert_str_eq(out, "/b/k?X-Amz-");
	target_redact("/bucket/long-key", out, 1);
	cr_assert_str_eq(out, "");
}
