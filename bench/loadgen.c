/*
** loadgen.c: a lean single-threaded epoll load generator for TCP echo
** servers.  It must cost far less than the server it drives: on a 2-core
** machine the two compete, so every syscall here is one the server does not
** get to make.  Hence: one read per readiness event, one write per top-up,
** verification by memcmp against a precomputed pattern.
**
**   loadgen echo     -p PORT [-c CONNS] [-s SIZE] [-d DEPTH] [-t SECS]
**   loadgen pingpong -p PORT [-c CONNS] [-t SECS]   (echo, 64 B, depth 1)
**   loadgen connect  -p PORT [-k CONCURRENCY] [-t SECS]
**   loadgen idle     -p PORT [-n CONNS] [-k CONCURRENCY]
**   common: [-w WARMUP_SECS] [-P SERVER_PID] [-h HOST]
**
** Prints one line of key=value pairs (read by bench/report.lua).  With -P,
** the server's CPU time over the measured window comes from
** /proc/PID/stat (utime, stime: the user/system split) and, when the kernel
** has it, /proc/PID/task/T/schedstat (nanoseconds, summed over threads: the
** precise total, split in the stat's proportion).
**
** Every byte echoed is checked: connection i sends the byte stream
** pat[(off_i + k) % PERIOD], k = 0, 1, ..., and expects it back in order.
** Exit status 2 on any mismatch, unexpected EOF or socket error.
*/
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define PERIOD 65521          /* prime: a shifted stream cannot line up */
#define CHUNK (256 * 1024)    /* largest single read or write */
#define MAXEV 256
#define SMALL 16              /* connect/idle message size */

enum { ST_CONNECTING, ST_OPEN, ST_DONE };

typedef struct conn {
  int fd;
  int state;
  int want_out;          /* EPOLLOUT is in the interest set */
  uint32_t off;          /* this connection's offset in the pattern */
  uint64_t sent, recvd;  /* bytes of the stream */
  uint64_t t0;           /* depth 1: when the message in flight was sent */
} conn;

static unsigned char *pat;
static unsigned char rbuf[CHUNK];
static int ep;
static struct sockaddr_in srv;
static int src_next;       /* rotating source address 127.0.0.(2 + n) */

/* options */
static const char *mode;
static int port, nconns = 50, size = 4096, depth = 4, conc = 50;
static int nidle = 10000, server_pid;
static double secs = 2.0, warmup = 0.5;
static const char *host = "127.0.0.1";

/* window counters */
static uint64_t total_bytes, total_msgs, total_conns;
static uint64_t *lat;      /* latencies (ns), depth-1 runs */
static size_t nlat, caplat;
static int recording;
static int nopen;          /* connections established (echo, pingpong) */


static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(2);
}


static void fail(const char *msg, long a) {
  fprintf(stderr, "loadgen: %s (%ld)\n", msg, a);
  exit(2);
}


static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


/* {======================================================================
** Server CPU and memory from /proc
** ======================================================================= */

typedef struct cpu_sample {
  uint64_t utime, stime;   /* clock ticks */
  uint64_t sched_ns;       /* 0: no schedstat */
} cpu_sample;


static void read_cpu(int pid, cpu_sample *s) {
  char path[64], buf[1024], *p;
  FILE *f;
  DIR *d;
  struct dirent *e;
  int i;
  memset(s, 0, sizeof *s);
  if (pid <= 0)
    return;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if ((f = fopen(path, "r")) == NULL)
    return;
  if (fgets(buf, sizeof buf, f) != NULL && (p = strrchr(buf, ')')) != NULL) {
    /* fields after "(comm)": state is field 3; utime 14, stime 15 */
    for (i = 2; i < 14 && p != NULL; i++)
      p = strchr(p + 1, ' ');
    if (p != NULL)
      sscanf(p, " %lu %lu", (unsigned long *)&s->utime,
             (unsigned long *)&s->stime);
  }
  fclose(f);
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  if ((d = opendir(path)) == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    unsigned long long ns;
    if (e->d_name[0] == '.')
      continue;
    snprintf(buf, sizeof buf, "/proc/%d/task/%s/schedstat", pid, e->d_name);
    if ((f = fopen(buf, "r")) == NULL)
      continue;
    if (fscanf(f, "%llu", &ns) == 1)
      s->sched_ns += ns;
    fclose(f);
  }
  closedir(d);
}


/* Server CPU between a and b, in ns: total, user, system. */
static void cpu_delta(const cpu_sample *a, const cpu_sample *b,
                      double *tot, double *usr, double *sys) {
  double tick = 1e9 / (double)sysconf(_SC_CLK_TCK);
  double du = (double)(b->utime - a->utime), ds = (double)(b->stime - a->stime);
  if (b->sched_ns > a->sched_ns) {
    *tot = (double)(b->sched_ns - a->sched_ns);
    *usr = du + ds > 0 ? *tot * du / (du + ds) : 0;
    *sys = *tot - *usr;
  }
  else {
    *usr = du * tick;
    *sys = ds * tick;
    *tot = *usr + *sys;
  }
}


static long read_rss_kib(int pid) {
  char path[64], line[256];
  long kib = -1;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if ((f = fopen(path, "r")) == NULL)
    return -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  fclose(f);
  return kib;
}


static double self_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
         ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* }====================================================================== */


/* {======================================================================
** Sockets
** ======================================================================= */

static void set_events(conn *c, uint32_t ev, int op) {
  struct epoll_event e;
  e.events = ev;
  e.data.ptr = c;
  if (epoll_ctl(ep, op, c->fd, &e) != 0)
    die("epoll_ctl");
}


/*
** A non-blocking socket connecting to the server from the next of 253
** loopback source addresses, so that connect-heavy runs never run out of
** ephemeral ports (each source address has its own port range).
*/
static int start_connect(void) {
  struct sockaddr_in src;
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (ntohl(srv.sin_addr.s_addr) >> 24 == 127) {
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    memset(&src, 0, sizeof src);
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(src_next++ % 253));
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0)
      die("bind");
  }
  if (connect(fd, (struct sockaddr *)&srv, sizeof srv) != 0 &&
      errno != EINPROGRESS)
    die("connect");
  return fd;
}


static void conn_open(conn *c, int idx) {
  memset(c, 0, sizeof *c);
  c->fd = start_connect();
  c->state = ST_CONNECTING;
  c->off = (uint32_t)((uint64_t)idx * 7919u % PERIOD);
  c->want_out = 1;
  set_events(c, EPOLLOUT, EPOLL_CTL_ADD);
}


static int connected_ok(conn *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    errno = err;
    die("connect (async)");
  }
  c->state = ST_OPEN;
  return 1;
}


/* Reads once; checks the bytes against the pattern.  Returns bytes (0 on
** EAGAIN); EOF or error is fatal unless allow_eof. */
static ssize_t read_check(conn *c, int allow_eof) {
  ssize_t n = read(c->fd, rbuf, CHUNK);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR)
      return 0;
    die("read");
  }
  if (n == 0) {
    if (allow_eof)
      return -1;
    fail("unexpected EOF from server after bytes", (long)c->recvd);
  }
  if (c->recvd + (uint64_t)n > c->sent)
    fail("server sent more than it was sent", (long)n);
  if (memcmp(rbuf, pat + (c->off + c->recvd) % PERIOD, (size_t)n) != 0)
    fail("echoed bytes differ at stream offset", (long)c->recvd);
  c->recvd += (uint64_t)n;
  return n;
}


/* Writes up to n bytes of the stream; returns bytes written (0 on EAGAIN). */
static size_t write_some(conn *c, size_t n) {
  ssize_t w;
  if (n > CHUNK)
    n = CHUNK;
  w = write(c->fd, pat + (c->off + c->sent) % PERIOD, n);
  if (w < 0) {
    if (errno == EAGAIN || errno == EINTR)
      return 0;
    die("write");
  }
  c->sent += (uint64_t)w;
  return (size_t)w;
}

/* }====================================================================== */


/* {======================================================================
** echo and pingpong: whole messages, at most depth in flight per connection
** ======================================================================= */

static void echo_topup(conn *c) {
  uint64_t limit = (c->recvd / (uint64_t)size + (uint64_t)depth) *
                   (uint64_t)size;
  int blocked = 0;
  while (c->sent < limit) {
    size_t want = (size_t)(limit - c->sent), w;
    if (depth == 1 && c->sent % (uint64_t)size == 0)
      c->t0 = now_ns();
    w = write_some(c, want);
    if (w < want) {
      blocked = 1;
      break;
    }
  }
  if (blocked != c->want_out) {
    c->want_out = blocked;
    set_events(c, EPOLLIN | (blocked ? EPOLLOUT : 0), EPOLL_CTL_MOD);
  }
}


static void echo_event(conn *c, uint32_t ev) {
  if (c->state == ST_CONNECTING) {
    connected_ok(c);
    nopen++;
    c->want_out = 0;
    set_events(c, EPOLLIN, EPOLL_CTL_MOD);
    echo_topup(c);
    return;
  }
  if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    uint64_t before = c->recvd;
    ssize_t n = read_check(c, 0);
    if (n > 0 && recording) {
      uint64_t m = c->recvd / (uint64_t)size - before / (uint64_t)size;
      total_bytes += (uint64_t)n;
      total_msgs += m;
      if (depth == 1 && m > 0) {
        if (nlat == caplat) {
          caplat = caplat ? caplat * 2 : 65536;
          if ((lat = realloc(lat, caplat * sizeof *lat)) == NULL)
            die("realloc");
        }
        lat[nlat++] = now_ns() - c->t0;
      }
    }
  }
  echo_topup(c);
}


static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* }====================================================================== */


/* {======================================================================
** connect: connect, one SMALL-byte echo, close; conc connections at a time
** ======================================================================= */

static int conn_count;  /* connections started (pattern offsets) */

static void connect_event(conn *c, uint32_t ev) {
  if (c->state == ST_CONNECTING) {
    connected_ok(c);
    c->want_out = 0;
    set_events(c, EPOLLIN, EPOLL_CTL_MOD);
    if (write_some(c, SMALL) != SMALL)
      fail("short first write", (long)c->sent);
    return;
  }
  if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    read_check(c, 0);
    if (c->recvd == SMALL) {
      close(c->fd);  /* the epoll registration goes with it */
      if (recording)
        total_conns++;
      conn_open(c, conn_count++);
    }
  }
}

/* }====================================================================== */


static void usage(void) {
  fprintf(stderr,
    "usage: loadgen echo|pingpong|connect|idle -p PORT [-h HOST]\n"
    "  [-c CONNS] [-s SIZE] [-d DEPTH] [-k CONCURRENCY] [-n IDLE_CONNS]\n"
    "  [-t SECS] [-w WARMUP_SECS] [-P SERVER_PID]\n");
  exit(1);
}


static void parse(int argc, char **argv) {
  int o;
  if (argc < 2)
    usage();
  mode = argv[1];
  optind = 2;
  while ((o = getopt(argc, argv, "p:h:c:s:d:k:n:t:w:P:")) != -1) {
    switch (o) {
      case 'p': port = atoi(optarg); break;
      case 'h': host = optarg; break;
      case 'c': nconns = atoi(optarg); break;
      case 's': size = atoi(optarg); break;
      case 'd': depth = atoi(optarg); break;
      case 'k': conc = atoi(optarg); break;
      case 'n': nidle = atoi(optarg); break;
      case 't': secs = atof(optarg); break;
      case 'w': warmup = atof(optarg); break;
      case 'P': server_pid = atoi(optarg); break;
      default: usage();
    }
  }
  if (strcmp(mode, "pingpong") == 0) {
    size = 64;
    depth = 1;
  }
  if (port <= 0 || nconns <= 0 || size <= 0 || depth <= 0 || conc <= 0 ||
      nidle <= 0 || secs <= 0)
    usage();
}


/* Runs the event loop for echo/pingpong/connect; warmup, then a measured
** window whose counters, wall time and server CPU are printed. */
static void run_loop(conn *cs, int n, void (*handler)(conn *, uint32_t)) {
  struct epoll_event evs[MAXEV];
  uint64_t start = now_ns(), t_rec = 0, t_end = 0, t;
  uint64_t warm_ns = (uint64_t)(warmup * 1e9), run_ns = (uint64_t)(secs * 1e9);
  cpu_sample c0, c1;
  double lg0 = 0, lg1, tot, usr, sys, wall, units;
  int i, k;
  (void)cs;
  for (;;) {
    k = epoll_wait(ep, evs, MAXEV, 10);
    if (k < 0 && errno != EINTR)
      die("epoll_wait");
    for (i = 0; i < k; i++)
      handler((conn *)evs[i].data.ptr, evs[i].events);
    t = now_ns();
    if (nopen < n && handler == echo_event)
      start = t;  /* warm up from when every connection is open */
    else if (!recording && t_rec == 0 && t - start >= warm_ns) {
      recording = 1;
      t_rec = t;
      read_cpu(server_pid, &c0);
      lg0 = self_cpu_s();
    }
    else if (recording && t - t_rec >= run_ns) {
      t_end = t;
      read_cpu(server_pid, &c1);
      break;
    }
  }
  recording = 0;
  lg1 = self_cpu_s();
  wall = (double)(t_end - t_rec) / 1e9;
  cpu_delta(&c0, &c1, &tot, &usr, &sys);
  if (strcmp(mode, "connect") == 0) {
    units = (double)total_conns;
    printf("mode=connect conc=%d secs=%.3f conns=%llu conns_s=%.1f",
           conc, wall, (unsigned long long)total_conns, units / wall);
  }
  else {
    units = (double)total_msgs;
    printf("mode=%s conns=%d size=%d depth=%d secs=%.3f msgs=%llu "
           "msgs_s=%.1f mb_s=%.2f", mode, nconns, size, depth, wall,
           (unsigned long long)total_msgs, units / wall,
           (double)total_bytes / wall / 1e6);
    if (nlat > 0) {
      qsort(lat, nlat, sizeof *lat, cmp_u64);
      printf(" p50_us=%.1f p99_us=%.1f", (double)lat[nlat / 2] / 1e3,
             (double)lat[nlat * 99 / 100] / 1e3);
    }
  }
  if (units == 0)
    fail("no work done in the window", 0);
  printf(" lg_cpu=%.2f", (lg1 - lg0) / wall);
  if (server_pid > 0)
    printf(" srv_cpu=%.2f ns_per=%.0f usr_ns_per=%.0f sys_ns_per=%.0f",
           tot / 1e9 / wall, tot / units, usr / units, sys / units);
  printf("\n");
}


/* idle: nidle connections, each echoed once, held; the server's RSS growth
** per connection. */
static void run_idle(void) {
  conn *cs = calloc((size_t)nidle, sizeof *cs);
  struct epoll_event evs[MAXEV];
  long rss0, rss1;
  int started = 0, inflight = 0, done = 0, i, k;
  uint64_t t0 = now_ns();
  if (cs == NULL)
    die("calloc");
  rss0 = read_rss_kib(server_pid);
  while (done < nidle) {
    while (inflight < conc && started < nidle) {
      conn_open(&cs[started], started);
      started++;
      inflight++;
    }
    k = epoll_wait(ep, evs, MAXEV, 1000);
    if (k < 0 && errno != EINTR)
      die("epoll_wait");
    for (i = 0; i < k; i++) {
      conn *c = (conn *)evs[i].data.ptr;
      if (c->state == ST_CONNECTING) {
        connected_ok(c);
        set_events(c, EPOLLIN, EPOLL_CTL_MOD);
        if (write_some(c, SMALL) != SMALL)
          fail("short first write", (long)c->sent);
      }
      else if (c->state == ST_OPEN) {
        read_check(c, 0);
        if (c->recvd == SMALL) {
          c->state = ST_DONE;
          epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
          inflight--;
          done++;
        }
      }
    }
  }
  /* Let the server settle (a GC step, a timer) before sampling. */
  usleep(300000);
  rss1 = read_rss_kib(server_pid);
  printf("mode=idle conns=%d secs=%.3f rss0_kib=%ld rss_kib=%ld "
         "kib_per_conn=%.3f\n", nidle, (double)(now_ns() - t0) / 1e9,
         rss0, rss1, (double)(rss1 - rss0) / nidle);
  for (i = 0; i < nidle; i++)
    close(cs[i].fd);
}


int main(int argc, char **argv) {
  conn *cs;
  int i;
  uint32_t x = 2463534242u;
  parse(argc, argv);
  /* PERIOD bytes of xorshift noise, repeated so that any offset has CHUNK
  ** contiguous bytes after it. */
  if ((pat = malloc(PERIOD + CHUNK)) == NULL)
    die("malloc");
  for (i = 0; i < PERIOD; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    pat[i] = (unsigned char)(x >> 24);
  }
  for (i = PERIOD; i < PERIOD + CHUNK; i++)
    pat[i] = pat[i - PERIOD];
  memset(&srv, 0, sizeof srv);
  srv.sin_family = AF_INET;
  srv.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &srv.sin_addr) != 1)
    fail("bad IPv4 host", 0);
  if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
    die("epoll_create1");
  if (strcmp(mode, "idle") == 0) {
    if (server_pid <= 0)
      fail("idle needs -P SERVER_PID", 0);
    run_idle();
    return 0;
  }
  if (strcmp(mode, "connect") == 0) {
    cs = calloc((size_t)conc, sizeof *cs);
    if (cs == NULL)
      die("calloc");
    for (i = 0; i < conc; i++)
      conn_open(&cs[i], conn_count++);
    run_loop(cs, conc, connect_event);
    return 0;
  }
  if (strcmp(mode, "echo") != 0 && strcmp(mode, "pingpong") != 0)
    usage();
  cs = calloc((size_t)nconns, sizeof *cs);
  if (cs == NULL)
    die("calloc");
  for (i = 0; i < nconns; i++)
    conn_open(&cs[i], i);
  run_loop(cs, nconns, echo_event);
  return 0;
}
