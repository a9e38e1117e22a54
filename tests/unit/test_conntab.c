/*
 * conntab: phases, deadlines and admission, with the clock moved by hand.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <string.h>

#include "conntab.h"

#define S	1000000000ULL

static struct sockaddr_in
v4(const char *a)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static struct sockaddr *
sa(struct sockaddr_in *s)
{
	return (struct sockaddr *)s;
}

static void
setup_limits(unsigned total, unsigned per_addr)
{
	struct conntab_limits l;

	memset(&l, 0, sizeof(l));
	l.timeout_ns[CT_HANDSHAKE] = 10 * S;
	l.timeout_ns[CT_HEADERS] = 5 * S;
	l.max_total = total;
	l.max_per_addr = per_addr;
	cr_assert_eq(conntab_init(&l, 64), 0);
}

static int got_fd[64], got_phase[64];
static size_t ngot;

static void
collect(int fd, enum conntab_phase p, void *arg)
{
	(void)arg;
	got_fd[ngot] = fd;
	got_phase[ngot++] = (int)p;
}

static void
teardown(void)
{
	conntab_free();
	ngot = 0;
}

TestSuite(conntab, .fini = teardown);

Test(conntab, expires_at_the_phase_deadline)
{
	struct sockaddr_in a = v4("192.0.2.1");
	struct conntab_entry *e;
	uint64_t next;
	bool kick = false;

	setup_limits(0, 0);
	e = conntab_open(5, sa(&a), false, CT_HANDSHAKE, 100 * S, &kick);
	cr_assert_not_null(e);
	cr_assert(kick, "first entry with a deadline kicks the reaper");
	cr_assert_eq(conntab_expire(110 * S - 1, collect, NULL, &next), 0);
	cr_assert_eq(next, 110 * S);
	/* The handshake ends at 104 s: the header deadline is 109 s. */
	conntab_enter(e, CT_HEADERS, 104 * S, &kick);
	cr_assert_eq(conntab_expire(108 * S, collect, NULL, &next), 0);
	cr_assert_eq(next, 109 * S);
	cr_assert_eq(conntab_expire(109 * S, collect, NULL, &next), 1);
	cr_assert_eq(got_fd[0], 5);
	cr_assert_eq(got_phase[0], CT_HEADERS);
	cr_assert_eq(conntab_phase(e), CT_EXPIRED);
	/* Still open: the reaper looks again within the shortest timeout. */
	cr_assert_eq(next, 109 * S + 5 * S);
	/* Expired entries stay in the phase they were given up in. */
	conntab_enter(e, CT_BUSY, 110 * S, &kick);
	cr_assert_eq(conntab_phase(e), CT_EXPIRED);
	conntab_close(e);
	cr_assert_eq(conntab_count(), 0);
}

Test(conntab, busy_has_no_deadline)
{
	struct sockaddr_in a = v4("192.0.2.1");
	struct conntab_entry *e;
	uint64_t next;
	bool kick = false;

	setup_limits(0, 0);
	e = conntab_open(3, sa(&a), false, CT_HEADERS, 0, &kick);
	conntab_enter(e, CT_BUSY, 1 * S, &kick);
	cr_assert_eq(conntab_expire(1000 * S, collect, NULL, &next), 0);
	/* No deadline: only the periodic look while a connection is open. */
	cr_assert_eq(next, 1000 * S + 5 * S);
	cr_assert_eq(conntab_byfd(3), e);
	conntab_close(e);
	cr_assert_null(conntab_byfd(3));
	cr_assert_eq(conntab_expire(1001 * S, collect, NULL, &next), 0);
	cr_assert_eq(next, UINT64_MAX, "nothing open: the reaper sleeps");
}

/* A request whose header deadline falls after the reaper's next look
 * does not wake it: a kept-alive connection's requests cost no wake-up of
 * the reaper each. */
Test(conntab, kicks_only_for_a_deadline_before_the_next_look)
{
	struct sockaddr_in a = v4("192.0.2.1");
	struct conntab_entry *e;
	uint64_t next;
	bool kick = false;

	setup_limits(0, 0);
	e = conntab_open(4, sa(&a), false, CT_BUSY, 0, &kick);
	cr_assert_not(kick, "no deadline, no kick");
	cr_assert_eq(conntab_expire(1 * S, collect, NULL, &next), 0);
	cr_assert_eq(next, 6 * S);
	/* Headers at 2 s: deadline 7 s, after the look at 6 s. */
	conntab_enter(e, CT_HEADERS, 2 * S, &kick);
	cr_assert_not(kick);
	conntab_enter(e, CT_BUSY, 2 * S, &kick);
	/* The look at 6 s finds nothing due and plans the next at 11 s. */
	cr_assert_eq(conntab_expire(6 * S, collect, NULL, &next), 0);
	cr_assert_eq(next, 11 * S);
	/* A handshake-long deadline is later still; a header deadline
	 * entered at 5.5 s (10.5 s) is before 11 s: kick. */
	conntab_enter(e, CT_HEADERS, 5 * S + S / 2, &kick);
	cr_assert(kick);
	conntab_close(e);
}

Test(conntab, expires_in_start_order_only_what_is_due)
{
	struct sockaddr_in a = v4("192.0.2.1");
	struct conntab_entry *e[4];
	uint64_t next;
	bool kick;
	int i;

	setup_limits(0, 0);
	for (i = 0; i < 4; i++)
		e[i] = conntab_open(10 + i, sa(&a), false, CT_HEADERS,
		    (uint64_t)i * S, &kick);
	/* The second one leaves the list: it must not hold up the others. */
	conntab_enter(e[1], CT_BUSY, 2 * S, &kick);
	cr_assert_eq(conntab_expire(7 * S, collect, NULL, &next), 2);
	cr_assert_eq(got_fd[0], 10);
	cr_assert_eq(got_fd[1], 12);
	cr_assert_eq(next, 8 * S);
	for (i = 0; i < 4; i++)
		conntab_close(e[i]);
}

Test(conntab, caps_per_address_and_in_all)
{
	struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2");
	struct sockaddr_in6 m;
	struct conntab_entry *e[5];
	bool kick;
	int i;

	setup_limits(4, 2);
	cr_assert(conntab_admit(sa(&a), false));
	e[0] = conntab_open(1, sa(&a), false, CT_HEADERS, 0, &kick);
	e[1] = conntab_open(2, sa(&a), false, CT_HEADERS, 0, &kick);
	cr_assert_not(conntab_admit(sa(&a), false), "third from one address");
	cr_assert(conntab_admit(sa(&a), true), "a trusted proxy is exempt");
	cr_assert(conntab_admit(sa(&b), false), "another address");
	/* IPv4-mapped IPv6 is the same client as IPv4. */
	memset(&m, 0, sizeof(m));
	m.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &m.sin6_addr);
	cr_assert_eq(conntab_count_addr((struct sockaddr *)&m), 2);
	cr_assert_not(conntab_admit((struct sockaddr *)&m, false));
	e[2] = conntab_open(3, sa(&b), false, CT_HEADERS, 0, &kick);
	e[3] = conntab_open(4, sa(&a), true, CT_HEADERS, 0, &kick);
	cr_assert_eq(conntab_count(), 4);
	cr_assert_not(conntab_admit(sa(&b), false), "at the total cap");
	cr_assert_not(conntab_admit(sa(&b), true), "exempt from the address "
	    "cap only");
	conntab_close(e[0]);
	cr_assert(conntab_admit(sa(&a), false));
	cr_assert_eq(conntab_count_addr(sa(&a)), 1);
	e[4] = conntab_open(5, sa(&a), false, CT_HEADERS, 0, &kick);
	for (i = 1; i < 5; i++)
		conntab_close(e[i]);
	cr_assert_eq(conntab_count(), 0);
	cr_assert_eq(conntab_count_addr(sa(&a)), 0);
}

Test(conntab, refuses_descriptors_out_of_range)
{
	struct sockaddr_in a = v4("192.0.2.1");
	bool kick;

	setup_limits(0, 0);
	cr_assert_null(conntab_open(-1, sa(&a), false, CT_HEADERS, 0, &kick));
	cr_assert_null(conntab_open(64, sa(&a), false, CT_HEADERS, 0, &kick));
	cr_assert_eq(conntab_count(), 0);
}
