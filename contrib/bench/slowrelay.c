/*
 * slowrelay: a TCP relay that puts a long round trip between clients and a
 * server on one machine.  This kernel has no netem qdisc, so the delay is
 * made in user space: the relay accepts on a port, connects to the target
 * and forwards each direction with a fixed one-way delay.
 *
 *   client --(loopback)-- slowrelay --(loopback)-- server
 *             D ms each way, added here: RTT = 2 D
 *
 * How it works.  One thread, one epoll loop, non-blocking sockets with
 * TCP_NODELAY.  Bytes read from one side at time t form a chunk that is
 * queued for the other side and released at t + D; chunks leave in the
 * order they came (byte order is kept: one FIFO per direction and
 * connection, and since every chunk waits the same D, one global FIFO of
 * release times drives all of them; due releases also run between the
 * events of one loop turn, so that a turn of many large reads does not
 * hold them back).  A read's end of file becomes a
 * chunk too and is released as shutdown(SHUT_WR) after the data before
 * it; a reset or write error on either side resets both (SO_LINGER 0).
 * The connection set-up is delayed as well: the kernel completes the
 * client's TCP handshake at once, so the relay does not read the client
 * before 2 D after the accept (its SYN-ACK would arrive then) and
 * connects to the target at 3 D (when its first bytes, sent right after
 * the handshake, would arrive).  A fresh plain HTTP request thus sees its
 * first byte after 2 RTT, a TLS 1.3 one after 3 RTT (4 with a
 * HelloRetryRequest), as over a real path.
 *
 * Buffering is bounded: at most -b bytes (default 512 KiB) wait per
 * direction and connection; beyond that the relay stops reading that
 * side, and TCP flow control pushes back on the sender.  So a
 * connection can carry at most -b / D through the relay (512 KiB /
 * 75 ms: about 7 MB/s), far above the rates it is meant for.  When a
 * receiver does not read, its chunks wait in the relay (its socket's send
 * buffer is full), as they would on a path whose receiver window is
 * closed.
 *
 * The relay stands for the network but shares the CPUs with what it
 * measures: when they are saturated, its releases come late.  Run it at a
 * higher priority (nice -n -10) and read its lateness figures.
 *
 * What it does not emulate: packets.  Each leg is loopback TCP, so
 * congestion and receive windows, slow start, delayed ACKs and Nagle's
 * algorithm act as on loopback (ACKs come from the relay at once), not as
 * over the emulated path; there is no loss, jitter or bandwidth limit.
 * The delay applies to bytes as the relay reads them.
 *
 * Fidelity is measured, not assumed: on SIGTERM or SIGINT (or SIGUSR1,
 * without exiting) it prints on stderr the connections, the bytes each
 * way, and how late each chunk's first write came after its release time
 * (the relay's own added delay: p50, p99, p99.9, max), plus how many
 * times the buffering limit stopped a read.
 *
 * Usage: slowrelay [-b BYTES] -d DELAY_MS LISTEN_PORT TARGET_PORT
 *        (127.0.0.1 both; raises its open-file limit to the hard limit)
 * Build: cc -O2 -o slowrelay slowrelay.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_MAX	65536		/* bytes per read */
#define LATE_BINS	10000		/* lateness histogram: 10 us bins, 100 ms */

enum { CLI = 0, UPS = 1 };		/* the two sides of a connection */

struct chunk {
	struct chunk	*next;
	uint64_t	 due;		/* release time, ns */
	uint32_t	 len, off;
	bool		 eof, tried;
	char		 data[];
};

/* Bytes read from one side, waiting for the other. */
struct pipe_ {
	struct chunk	*head, *tail;
	size_t		 queued;
	bool		 eof_in;	/* end of file read */
	bool		 done;		/* end of file passed on */
};

struct conn;
struct end {
	struct conn	*c;
	int		 side, fd;
	uint32_t	 ev;		/* registered epoll events */
	bool		 registered;
	bool		 blocked;	/* a write would block: want EPOLLOUT */
};

struct conn {
	uint32_t	 idx, gen;
	bool		 live, gated, connecting, connected;
	struct end	 e[2];
	struct pipe_	 p[2];		/* p[s]: read from side s */
	struct conn	*next_free;
};

/* A timer: one FIFO per kind, each in order of its due times. */
struct tev {
	uint64_t	 due;
	uint32_t	 idx, gen;
	uint8_t		 side;
};
struct fifo {
	struct tev	*v;
	size_t		 cap, head, n;
};
enum { F_GATE, F_CONNECT, F_DATA, NFIFO };

static uint64_t delay_ns, cap_bytes = 512 * 1024;
static int ep, lfd;
static struct sockaddr_in target;
static struct conn **conns;
static size_t nconns, cconns;
static struct conn *free_list, *dead_list;
static struct fifo fifos[NFIFO];
static volatile sig_atomic_t stop, report;
static uint64_t st_accepted, st_live, st_maxlive, st_bytes[2], st_resets,
    st_stalls, st_late[LATE_BINS + 1], st_nlate, st_latemax, st_refused;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "slowrelay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fprintf(stderr, "slowrelay: out of memory\n");
		exit(1);
	}
	return p;
}

static void
fifo_push(int k, uint64_t due, struct conn *c, int side)
{
	struct fifo *f = &fifos[k];

	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 1024, i;
		struct tev *v = xmalloc(ncap * sizeof(*v));

		for (i = 0; i < f->n; i++)
			v[i] = f->v[(f->head + i) % f->cap];
		free(f->v);
		f->v = v;
		f->cap = ncap;
		f->head = 0;
	}
	f->v[(f->head + f->n) % f->cap] = (struct tev){ due, c->idx, c->gen,
	    (uint8_t)side };
	f->n++;
}

/* The registered events of end `s`, from the connection's state. */
static void
update(struct conn *c, int s)
{
	struct end *e = &c->e[s];
	struct pipe_ *in = &c->p[s];
	struct epoll_event ev;
	uint32_t want = 0;

	if (e->fd < 0)
		return;
	if (!in->eof_in && in->queued < cap_bytes &&
	    (s == CLI ? !c->gated : c->connected))
		want |= EPOLLIN;
	if ((s == UPS && c->connecting) || e->blocked)
		want |= EPOLLOUT;
	if (e->registered && want == e->ev)
		return;
	if (!e->registered && want == 0)
		return;		/* left out after a hang-up, until wanted */
	ev.events = want;
	ev.data.ptr = e;
	if (epoll_ctl(ep, e->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    e->fd, &ev) == -1)
		die("epoll_ctl");
	e->registered = true;
	e->ev = want;
}

static void
conn_close(struct conn *c, bool reset)
{
	int s;
	struct chunk *k, *n;

	if (!c->live)
		return;
	for (s = 0; s < 2; s++) {
		if (c->e[s].fd >= 0) {
			if (reset) {
				struct linger l = { 1, 0 };

				setsockopt(c->e[s].fd, SOL_SOCKET, SO_LINGER,
				    &l, sizeof(l));
			}
			close(c->e[s].fd);
			c->e[s].fd = -1;
		}
		for (k = c->p[s].head; k != NULL; k = n) {
			n = k->next;
			free(k);
		}
		memset(&c->p[s], 0, sizeof(c->p[s]));
	}
	if (reset)
		st_resets++;
	c->live = false;
	c->gen++;		/* its timers are stale now */
	st_live--;
	c->next_free = dead_list;	/* reused after this loop turn */
	dead_list = c;
}

static void
late(uint64_t ns)
{
	uint64_t b = ns / 10000;

	st_late[b < LATE_BINS ? b : LATE_BINS]++;
	st_nlate++;
	if (ns > st_latemax)
		st_latemax = ns;
}

/* Releases what is due of the bytes read from side `s` to the other side. */
static void
flush(struct conn *c, int s, uint64_t now)
{
	struct pipe_ *p = &c->p[s];
	struct end *to = &c->e[!s];
	struct chunk *k;
	ssize_t w;

	if (to->fd < 0 || (!s ? !c->connected : false))
		return;
	to->blocked = false;
	while ((k = p->head) != NULL && k->due <= now) {
		if (!k->tried) {
			k->tried = true;
			late(now - k->due);
		}
		if (k->eof) {
			shutdown(to->fd, SHUT_WR);
			p->done = true;
		} else {
			w = send(to->fd, k->data + k->off, k->len - k->off,
			    MSG_NOSIGNAL);
			if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
				to->blocked = true;
				break;
			}
			if (w == -1) {
				conn_close(c, true);
				return;
			}
			st_bytes[!s] += (uint64_t)w;
			k->off += (uint32_t)w;
			if (k->off < k->len) {
				to->blocked = true;
				break;
			}
		}
		p->head = k->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->queued -= k->len;
		free(k);
	}
	if (c->p[0].done && c->p[1].done) {
		conn_close(c, false);
		return;
	}
	update(c, !s);
	update(c, s);		/* room again: read on */
}

static void
on_read(struct conn *c, int s, uint64_t now)
{
	struct pipe_ *p = &c->p[s];
	size_t room, want;
	struct chunk *k, *k2;
	ssize_t r;

	if (p->queued >= cap_bytes || p->eof_in)
		return;
	room = cap_bytes - p->queued;
	want = room < READ_MAX ? room : READ_MAX;
	/* Read straight into the chunk, trimmed to what came. */
	k = xmalloc(sizeof(*k) + want);
	r = recv(c->e[s].fd, k->data, want, 0);
	if (r == -1) {
		free(k);
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c, true);
		return;
	}
	if ((size_t)r < want / 2 && (k2 = realloc(k, sizeof(*k) + (size_t)r))
	    != NULL)
		k = k2;
	k->next = NULL;
	k->due = now + delay_ns;
	k->len = (uint32_t)r;
	k->off = 0;
	k->eof = r == 0;
	k->tried = false;
	if (p->tail != NULL)
		p->tail->next = k;
	else
		p->head = k;
	p->tail = k;
	p->queued += (size_t)r;
	if (r == 0)
		p->eof_in = true;
	if (p->queued >= cap_bytes)
		st_stalls++;
	fifo_push(F_DATA, k->due, c, s);
	update(c, s);
}

static void
start_connect(struct conn *c)
{
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		conn_close(c, true);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->e[UPS].fd = fd;
	if (connect(fd, (struct sockaddr *)&target, sizeof(target)) == -1 &&
	    errno != EINPROGRESS) {
		st_refused++;
		conn_close(c, true);
		return;
	}
	c->connecting = true;
	update(c, UPS);
}

static void
on_connected(struct conn *c, uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->e[UPS].fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		st_refused++;
		conn_close(c, true);
		return;
	}
	c->connecting = false;
	c->connected = true;
	update(c, UPS);
	update(c, CLI);
	flush(c, CLI, now);
}

static void
on_accept(uint64_t now)
{
	struct conn *c;
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))
	    != -1) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = free_list) != NULL)
			free_list = c->next_free;
		else {
			if (nconns == cconns) {
				cconns = cconns ? cconns * 2 : 1024;
				conns = realloc(conns, cconns * sizeof(*conns));
				if (conns == NULL)
					die("realloc");
			}
			c = xmalloc(sizeof(*c));
			memset(c, 0, sizeof(*c));
			c->idx = (uint32_t)nconns;
			conns[nconns++] = c;
		}
		c->live = true;
		c->gated = true;
		c->connecting = c->connected = false;
		memset(c->p, 0, sizeof(c->p));
		memset(c->e, 0, sizeof(c->e));
		c->e[CLI] = (struct end){ c, CLI, fd, 0, false, false };
		c->e[UPS] = (struct end){ c, UPS, -1, 0, false, false };
		st_accepted++;
		if (++st_live > st_maxlive)
			st_maxlive = st_live;
		/* Registered without events: errors only, until the gate. */
		{
			struct epoll_event ev = { 0, { .ptr = &c->e[CLI] } };

			if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
				die("epoll_ctl");
			c->e[CLI].registered = true;
		}
		fifo_push(F_GATE, now + 2 * delay_ns, c, CLI);
		fifo_push(F_CONNECT, now + 3 * delay_ns, c, UPS);
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		fprintf(stderr, "slowrelay: accept: %s\n", strerror(errno));
}

static void
on_event(struct end *e, uint32_t ev, uint64_t now)
{
	struct conn *c = e->c;
	int s = e->side;

	if (!c->live || e->fd < 0)
		return;
	if (s == UPS && c->connecting) {
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			on_connected(c, now);
		return;
	}
	if (ev & EPOLLERR) {
		conn_close(c, true);
		return;
	}
	if ((ev & EPOLLOUT) && e->blocked)
		flush(c, !s, now);
	if (!c->live)
		return;
	if (ev & (EPOLLIN | EPOLLHUP)) {
		if (e->ev & EPOLLIN)
			on_read(c, s, now);
		else if (ev & EPOLLHUP) {
			/* Both ways shut while its bytes wait for room: leave
			 * it out of the set until it is read again. */
			epoll_ctl(ep, EPOLL_CTL_DEL, e->fd, NULL);
			e->registered = false;
			e->ev = 0;
		}
	}
}

static void
run_timers(uint64_t now)
{
	int k;

	for (k = 0; k < NFIFO; k++) {
		struct fifo *f = &fifos[k];

		while (f->n > 0 && f->v[f->head].due <= now) {
			struct tev t = f->v[f->head];
			struct conn *c = conns[t.idx];

			f->head = (f->head + 1) % f->cap;
			f->n--;
			if (!c->live || c->gen != t.gen)
				continue;
			if (k == F_GATE) {
				c->gated = false;
				update(c, CLI);
			} else if (k == F_CONNECT)
				start_connect(c);
			else
				flush(c, t.side, now);
		}
	}
}

static uint64_t
late_q(double q)
{
	uint64_t want = (uint64_t)(q * (double)st_nlate), acc = 0;
	int b;

	for (b = 0; b <= LATE_BINS; b++) {
		acc += st_late[b];
		if (acc > want)
			return (uint64_t)b * 10000 + 5000;
	}
	return 0;
}

static void
print_stats(void)
{
	fprintf(stderr, "slowrelay: %llu connections, %llu at most at once, "
	    "%llu refused by the target, %llu reset; bytes to the target %llu, "
	    "to clients %llu; %llu reads stopped at the buffer limit; "
	    "release lateness over %llu chunks: p50 %.2f ms, p99 %.2f ms, "
	    "p99.9 %.2f ms, max %.2f ms\n",
	    (unsigned long long)st_accepted, (unsigned long long)st_maxlive,
	    (unsigned long long)st_refused, (unsigned long long)st_resets,
	    (unsigned long long)st_bytes[UPS], (unsigned long long)st_bytes[CLI],
	    (unsigned long long)st_stalls, (unsigned long long)st_nlate,
	    late_q(0.5) / 1e6, late_q(0.99) / 1e6, late_q(0.999) / 1e6,
	    st_latemax / 1e6);
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in la = { .sin_family = AF_INET };
	struct epoll_event evs[256];
	struct sigaction sa;
	struct rlimit rl;
	int o, one = 1, i, n;
	long dms = -1;

	while ((o = getopt(argc, argv, "b:d:")) != -1) {
		switch (o) {
		case 'b':
			cap_bytes = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			dms = strtol(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (dms < 0 || argc - optind != 2 || cap_bytes == 0) {
usage:
		fprintf(stderr, "usage: slowrelay [-b BYTES] -d DELAY_MS "
		    "LISTEN_PORT TARGET_PORT\n");
		return 2;
	}
	delay_ns = (uint64_t)dms * 1000000ULL;
	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	la.sin_port = htons((uint16_t)atoi(argv[optind]));
	target = la;
	target.sin_port = htons((uint16_t)atoi(argv[optind + 1]));

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: epoll returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&la, sizeof(la)) == -1)
		die("bind");
	if (listen(lfd, 4096) == -1)
		die("listen");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	{
		struct epoll_event ev = { EPOLLIN, { .ptr = NULL } };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
			die("epoll_ctl");
	}

	while (!stop) {
		uint64_t now = now_ns(), next = UINT64_MAX;
		struct timespec ts, *tp = NULL;
		int k;

		if (report) {
			report = 0;
			print_stats();
		}
		for (k = 0; k < NFIFO; k++)
			if (fifos[k].n > 0 &&
			    fifos[k].v[fifos[k].head].due < next)
				next = fifos[k].v[fifos[k].head].due;
		if (next != UINT64_MAX) {
			uint64_t w = next > now ? next - now : 0;

			ts.tv_sec = (time_t)(w / 1000000000ULL);
			ts.tv_nsec = (long)(w % 1000000000ULL);
			tp = &ts;
		}
		n = epoll_pwait2(ep, evs, 256, tp, NULL);
		if (n == -1 && errno != EINTR)
			die("epoll_pwait2");
		for (i = 0; i < n; i++) {
			/* Timers between events too: a turn with many reads
			 * must not hold back what is due meanwhile. */
			now = now_ns();
			run_timers(now);
			if (evs[i].data.ptr == NULL)
				on_accept(now);
			else
				on_event(evs[i].data.ptr, evs[i].events, now);
		}
		run_timers(now_ns());
		while (dead_list != NULL) {
			struct conn *c = dead_list;

			dead_list = c->next_free;
			c->next_free = free_list;
			free_list = c;
		}
	}
	print_stats();
	return 0;
}
