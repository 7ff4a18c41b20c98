/* One load generator for every echo server in sockit's echo benchmark.
 *
 * Usage: loadgen MODE ADDRESS [-c CONNS] [-b BYTES] [-d SECONDS] [-w SECONDS] [-t THREADS] [-p PID]
 *   ADDRESS   tcp://127.0.0.1:PORT (or 127.0.0.1:PORT), IPv4 only
 *   pingpong  CONNS connections each send a BYTES block (default 16384), wait
 *             for all of it back, verify it, and repeat; after a warm-up of -w
 *             seconds (default 0.5) it measures for -d seconds (default 3).
 *             Prints `RESULT mibps=X` (echoed bytes per second, MiB/s).
 *   rr        the same with 64-byte blocks (unless -b), and times every round
 *             trip: prints `RESULT rtps=X p50_us=Y p99_us=Z`.
 *   idle      opens CONNS connections, does one 1-byte round trip on each (so
 *             the server has accepted and served it), prints `READY CONNS`, and
 *             holds them until stdin reaches EOF or -d seconds (default 600)
 *             pass. The runner reads the server's RSS meanwhile.
 *   -t        threads, each with its own epoll and a share of the connections
 *             (default 1).
 *   -p PID    the server's pid: also reports the CPU time (user + system) the
 *             server used during the measurement, per MiB echoed (`cpu_ms_per_mib`)
 *             or per 1000 round trips (`cpu_ms_per_krt`), and in cores (`cpu_cores`).
 *             That figure moves much less than throughput when the 2 cores
 *             are shared with other work. `other_cores` is the CPU that
 *             neither the server nor this load generator used meanwhile
 *             (user + system time in /proc/stat): above ~0.1 something else
 *             was running and the throughput figure is suspect.
 * Connections are opened at most 256 at a time per thread so no server's
 * listen backlog overflows. Errors (refused, reset, wrong bytes) exit 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { PINGPONG, RR, IDLE };

struct conn {
  int fd;
  int connected;
  size_t sent, rcvd; /* of the current block */
  uint64_t t_start;  /* ns, when the current block was first sent */
};

struct worker {
  pthread_t tid;
  int nconns;
  struct conn* conns;
  int ep;
  _Atomic uint64_t bytes; /* echoed bytes received, whole run */
  _Atomic uint64_t trips; /* finished round trips, whole run */
  uint32_t* lat;
  size_t nlat, caplat; /* rr: ns, recorded while measuring */
};

static enum mode mode;
static struct sockaddr_in addr;
static size_t block = 0;
static char* pattern;
static _Atomic int ready_workers;
static _Atomic int go, measuring, stopping;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char* fmt, const char* what, int err) {
  fprintf(stderr, "loadgen: ");
  fprintf(stderr, fmt, what);
  if (err) fprintf(stderr, ": %s", strerror(err));
  fprintf(stderr, "\n");
  exit(1);
}

static void arm(struct worker* w, struct conn* c, int op, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(w->ep, op, c->fd, &ev)) fail("%s", "epoll_ctl", errno);
}

/* Sends what is left of the current block; EPOLLOUT only while some is left. */
static void send_rest(struct worker* w, struct conn* c) {
  while (c->sent < block) {
    ssize_t n = send(c->fd, pattern + c->sent, block - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        arm(w, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
        return;
      }
      fail("%s", "send to the server", errno);
    }
    c->sent += (size_t)n;
  }
  arm(w, c, EPOLL_CTL_MOD, EPOLLIN);
}

static void start_block(struct worker* w, struct conn* c) {
  c->sent = c->rcvd = 0;
  c->t_start = mode == RR ? now_ns() : 0;
  send_rest(w, c);
}

static void record(struct worker* w, uint64_t ns) {
  if (w->nlat == w->caplat) {
    w->caplat = w->caplat ? w->caplat * 2 : 65536;
    w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
    if (!w->lat) fail("%s", "out of memory", 0);
  }
  w->lat[w->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* Returns 1 when the block came back whole. */
static int on_readable(struct worker* w, struct conn* c, char* scratch, size_t scratch_len) {
  for (;;) {
    ssize_t n = recv(c->fd, scratch, scratch_len, 0);
    if (n == 0) fail("%s", "the server closed a connection", 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return 0;
      fail("%s", "recv from the server", errno);
    }
    if (c->rcvd + (size_t)n > c->sent) fail("%s", "the server sent more bytes than it was sent", 0);
    if (memcmp(scratch, pattern + c->rcvd, (size_t)n) != 0)
      fail("%s", "the server sent back different bytes", 0);
    c->rcvd += (size_t)n;
    atomic_fetch_add_explicit(&w->bytes, (uint64_t)n, memory_order_relaxed);
    if (c->rcvd == block) return 1;
    if ((size_t)n < scratch_len) return 0;
  }
}

static void open_conn(struct worker* w, struct conn* c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) fail("%s", "socket (raise ulimit -n?)", errno);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr*)&addr, sizeof addr) && errno != EINPROGRESS)
    fail("%s", "connect", errno);
  c->connected = 0;
  arm(w, c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* Opens this worker's connections, at most 256 in flight. In idle mode each
 * one also does a 1-byte round trip before it counts as open. */
static void setup(struct worker* w, char* scratch, size_t scratch_len) {
  enum { WINDOW = 256 };
  int next = 0, done = 0, inflight = 0;
  struct epoll_event evs[256];
  uint64_t deadline = now_ns() + 60ull * 1000000000u;
  while (done < w->nconns) {
    while (inflight < WINDOW && next < w->nconns) {
      open_conn(w, &w->conns[next++]);
      inflight++;
    }
    int n = epoll_wait(w->ep, evs, 256, 1000);
    if (n < 0 && errno != EINTR) fail("%s", "epoll_wait", errno);
    if (now_ns() > deadline) fail("%s", "connections not established within 60 s", 0);
    for (int i = 0; i < n; i++) {
      struct conn* c = evs[i].data.ptr;
      if (!c->connected) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) fail("%s", "connect", err);
        c->connected = 1;
        if (mode != IDLE) {
          arm(w, c, EPOLL_CTL_MOD, 0);
          inflight--;
          done++;
          continue;
        }
        start_block(w, c); /* 1-byte probe */
        continue;
      }
      if ((evs[i].events & EPOLLOUT) && c->sent < block) send_rest(w, c);
      if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      if (on_readable(w, c, scratch, scratch_len)) {
        arm(w, c, EPOLL_CTL_MOD, 0);
        inflight--;
        done++;
      }
    }
  }
}

static void* run_worker(void* arg) {
  struct worker* w = arg;
  size_t scratch_len = 65536;
  char* scratch = malloc(scratch_len);
  w->ep = epoll_create1(EPOLL_CLOEXEC);
  if (w->ep < 0 || !scratch) fail("%s", "epoll_create1", errno);
  setup(w, scratch, scratch_len);
  atomic_fetch_add(&ready_workers, 1);
  if (mode == IDLE) return NULL;
  while (!atomic_load(&go)) usleep(1000);
  for (int i = 0; i < w->nconns; i++) start_block(w, &w->conns[i]);

  struct epoll_event evs[256];
  while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
    int n = epoll_wait(w->ep, evs, 256, 100);
    if (n < 0 && errno != EINTR) fail("%s", "epoll_wait", errno);
    int rec = mode == RR && atomic_load_explicit(&measuring, memory_order_relaxed);
    for (int i = 0; i < n; i++) {
      struct conn* c = evs[i].data.ptr;
      if ((evs[i].events & EPOLLOUT) && c->sent < block) send_rest(w, c);
      if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      if (on_readable(w, c, scratch, scratch_len)) {
        if (rec) {
          record(w, now_ns() - c->t_start);
          atomic_fetch_add_explicit(&w->trips, 1, memory_order_relaxed);
        }
        start_block(w, c);
      }
    }
  }
  return NULL;
}

static int cmp_u32(const void* a, const void* b) {
  uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
  return x < y ? -1 : x > y;
}

/* utime + stime of a process in seconds, or -1 when unreadable. */
static double proc_cpu_s(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char* p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (!p) return -1;
  unsigned long long ut = 0, st = 0;
  /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
   */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* user + nice + system time of the whole machine in seconds. Interrupt time
 * is left out: per-process times leave it out too. */
static double machine_cpu_s(void) {
  FILE* f = fopen("/proc/stat", "r");
  if (!f) return -1;
  unsigned long long u = 0, n = 0, sy = 0;
  int ok = fscanf(f, "cpu %llu %llu %llu", &u, &n, &sy) == 3;
  fclose(f);
  return ok ? (double)(u + n + sy) / (double)sysconf(_SC_CLK_TCK) : -1;
}

static double self_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void sleep_s(double s) {
  struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) && errno == EINTR) {
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen pingpong|rr|idle tcp://127.0.0.1:PORT [-c CONNS] [-b BYTES] "
          "[-d SECONDS] [-w SECONDS] [-t THREADS] [-p SERVER_PID]\n");
  exit(2);
}

int main(int argc, char** argv) {
  if (argc < 3) usage();
  if (!strcmp(argv[1], "pingpong"))
    mode = PINGPONG;
  else if (!strcmp(argv[1], "rr"))
    mode = RR;
  else if (!strcmp(argv[1], "idle"))
    mode = IDLE;
  else
    usage();
  const char* a = argv[2];
  if (!strncmp(a, "tcp://", 6)) a += 6;
  char host[64];
  int port;
  const char* colon = strrchr(a, ':');
  if (!colon || colon - a >= (long)sizeof host) usage();
  memcpy(host, a, (size_t)(colon - a));
  host[colon - a] = 0;
  port = atoi(colon + 1);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 || port <= 0 || port > 65535) {
    fprintf(stderr, "loadgen: bad address '%s' (want tcp://IPv4:PORT)\n", argv[2]);
    return 2;
  }
  int conns = 1, threads = 1, server_pid = 0;
  double duration = mode == IDLE ? 600 : 3, warmup = 0.5;
  for (int i = 3; i < argc; i++) {
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    switch (argv[i - 1][1]) {
      case 'c':
        conns = atoi(v);
        break;
      case 'b':
        block = (size_t)atol(v);
        break;
      case 'd':
        duration = atof(v);
        break;
      case 'w':
        warmup = atof(v);
        break;
      case 't':
        threads = atoi(v);
        break;
      case 'p':
        server_pid = atoi(v);
        break;
      default:
        usage();
    }
  }
  if (!block) block = mode == PINGPONG ? 16384 : mode == RR ? 64 : 1;
  if (mode == IDLE) block = 1;
  if (conns < 1 || threads < 1 || threads > conns || duration <= 0 || warmup < 0) usage();

  struct rlimit rl;
  if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)conns + 16) {
    fprintf(stderr, "loadgen: %d connections need ulimit -n of at least %d (it is %lu)\n", conns, conns + 16,
            (unsigned long)rl.rlim_cur);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  pattern = malloc(block);
  for (size_t i = 0; i < block; i++) pattern[i] = (char)('a' + (i * 7 + i / 251) % 26);

  struct worker* ws = calloc((size_t)threads, sizeof *ws);
  struct conn* all = calloc((size_t)conns, sizeof *all);
  for (int t = 0, off = 0; t < threads; t++) {
    ws[t].nconns = conns / threads + (t < conns % threads);
    ws[t].conns = all + off;
    off += ws[t].nconns;
    if (pthread_create(&ws[t].tid, NULL, run_worker, &ws[t])) fail("%s", "pthread_create", errno);
  }
  while (atomic_load(&ready_workers) < threads) usleep(1000);

  if (mode == IDLE) {
    for (int t = 0; t < threads; t++) pthread_join(ws[t].tid, NULL);
    printf("READY %d\n", conns);
    fflush(stdout);
    struct pollfd p = {.fd = 0, .events = POLLIN};
    uint64_t end = now_ns() + (uint64_t)(duration * 1e9);
    char buf[256];
    while (now_ns() < end) {
      int r = poll(&p, 1, 200);
      if (r > 0 && read(0, buf, sizeof buf) <= 0) break;
      if (r < 0 && errno != EINTR) break;
    }
    return 0;
  }

  atomic_store(&go, 1);
  sleep_s(warmup);
  uint64_t b0 = 0, t0 = now_ns();
  for (int t = 0; t < threads; t++) b0 += atomic_load(&ws[t].bytes);
  double cpu0 = server_pid ? proc_cpu_s(server_pid) : -1;
  double all0 = machine_cpu_s(), self0 = self_cpu_s();
  atomic_store(&measuring, 1);
  sleep_s(duration);
  atomic_store(&measuring, 0);
  double cpu1 = server_pid ? proc_cpu_s(server_pid) : -1;
  double all1 = machine_cpu_s(), self1 = self_cpu_s();
  uint64_t b1 = 0, trips = 0, t1 = now_ns();
  for (int t = 0; t < threads; t++) b1 += atomic_load(&ws[t].bytes), trips += atomic_load(&ws[t].trips);
  atomic_store(&stopping, 1);
  for (int t = 0; t < threads; t++) pthread_join(ws[t].tid, NULL);
  double secs = (double)(t1 - t0) / 1e9;
  char cpu[200] = "";
  if (cpu0 >= 0 && cpu1 >= 0 && all0 >= 0 && all1 >= 0) {
    double used = cpu1 - cpu0;
    double per = mode == PINGPONG ? used * 1e3 / ((double)(b1 - b0) / 1048576.0)
                                  : used * 1e3 / ((double)trips / 1000.0);
    double other = (all1 - all0) - used - (self1 - self0);
    snprintf(cpu, sizeof cpu, " %s=%.3f cpu_cores=%.2f loadgen_cores=%.2f other_cores=%.2f",
             mode == PINGPONG ? "cpu_ms_per_mib" : "cpu_ms_per_krt", per, used / secs, (self1 - self0) / secs,
             other > 0 ? other / secs : 0.0);
  }

  if (mode == PINGPONG) {
    printf("RESULT mibps=%.1f conns=%d block=%zu seconds=%.2f threads=%d%s\n",
           (double)(b1 - b0) / secs / 1048576.0, conns, block, secs, threads, cpu);
    return 0;
  }
  size_t n = 0;
  for (int t = 0; t < threads; t++) n += ws[t].nlat;
  uint32_t* lat = malloc((n ? n : 1) * sizeof *lat);
  for (int t = 0, off = 0; t < threads; off += (int)ws[t].nlat, t++)
    memcpy(lat + off, ws[t].lat, ws[t].nlat * sizeof *lat);
  qsort(lat, n, sizeof *lat, cmp_u32);
  double p50 = n ? lat[n / 2] / 1e3 : 0, p99 = n ? lat[(size_t)((double)n * 0.99)] / 1e3 : 0;
  printf("RESULT rtps=%.0f p50_us=%.1f p99_us=%.1f conns=%d block=%zu seconds=%.2f threads=%d%s\n",
         (double)trips / secs, p50, p99, conns, block, secs, threads, cpu);
  return 0;
}
