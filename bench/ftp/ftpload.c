/* One FTP client load generator for every server in sockit's FTP benchmark.
 *
 * Usage: ftpload MODE HOST:PORT [options]
 *   MODE
 *     login  N sessions connect and log in (USER/PASS); timed from the first
 *            connect to the last 230. Then all QUIT (-H: once stdin closes).
 *     retr   N sessions log in, TYPE I; once all are ready (untimed), each
 *            does EPSV + RETR of its file at the same moment; timed from that
 *            moment to the last transfer done (data at EOF and 226 read).
 *     stor   the same with STOR, the bytes sent with sendfile(2) from -i FILE.
 *   -n N        sessions (default 1)
 *   -u USER -w PASS   login (default anonymous / bench@example.com)
 *   -f FORMAT   remote path, printf-style with the session's index, e.g.
 *               "files/f%03d.bin" or "big.bin" (retr, stor)
 *   -s BYTES    expected size (retr: checked at EOF; stor: bytes sent,
 *               default the size of -i)
 *   -i FILE     stor: the local file sent (every session sends it whole)
 *   -o DIR      retr: write what is received to DIR/<basename of the path>
 *               (for checking; slower)
 *   -c C        sessions connecting / logging in at once (default 32)
 *   -t T        threads, each with its own epoll and a share of the sessions
 *               (default 1)
 *   -p PID      the server: CPU seconds of PID and all its descendants
 *               over the timed part (server_cpu=; the run time of their
 *               threads, from /proc/PID/task/TID/schedstat). Sessions QUIT
 *               only after it is read (vsftpd's session processes exit then).
 *   -H          login: once all are logged in, print `READY N` and hold the
 *               sessions until stdin reaches EOF, then QUIT
 *   -d SECONDS  give up (exit 1) after this long (default 600)
 * Prints `RESULT seconds=S bytes=B login_seconds=L client_cpu=C server_cpu=P other=O steal=T`
 * (client_cpu: this program's user + system seconds over the timed part;
 * other: the cores that neither the server nor this program used meanwhile,
 * from /proc/stat (user + nice + system); steal: the cores
 * the hypervisor took. Either well above 0 means the figure is disturbed.)
 * Passive mode only (EPSV, PASV when EPSV is refused), binary (TYPE I).
 * Any unexpected reply, refused connection or short transfer exits 1 with
 * the reply on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum mode { LOGIN, RETR, STOR };
enum state {
  S_IDLE,     /* not started */
  S_CONNECT,  /* control connecting */
  S_GREET,    /* waiting for 220 */
  S_USER,     /* USER sent */
  S_PASS,     /* PASS sent */
  S_TYPE,     /* TYPE I sent */
  S_READY,    /* logged in (and TYPE I), waiting for the start */
  S_EPSV,     /* EPSV sent */
  S_PASV,     /* PASV sent (EPSV refused) */
  S_DATACONN, /* data connecting */
  S_XFER,     /* RETR/STOR sent */
  S_FINISHED, /* transfer done, waiting for the end of the measurement */
  S_DONE,     /* QUIT sent */
  S_CLOSED
};

struct sess {
  int idx;
  int ctl, data;
  enum state st;
  char rbuf[4096];
  size_t rlen;
  int prelim;     /* 150/125 seen */
  int final_ok;   /* 226/250 seen */
  int data_done;  /* retr: EOF; stor: all sent and closed */
  uint64_t moved; /* bytes of the transfer */
  off_t file_off; /* stor: offset in -i */
  int out_fd;     /* retr -o */
  char path[512];
};

struct worker {
  pthread_t tid;
  int ep;
  int wake; /* eventfd: the start, or the end of a hold */
  struct sess* s;
  int n;
  int next;     /* next session to start */
  int in_login; /* sessions connecting or logging in */
  int ready;    /* sessions in S_READY (or logged in for LOGIN) */
  int closed;
  int started; /* transfers started */
  int quit_sent;
  char* buf;
};

static enum mode mode;
static struct sockaddr_in addr;
static const char *user = "anonymous", *pass = "bench@example.com", *fmt = "file", *infile, *outdir;
static uint64_t size = 0;
static int have_size = 0;
static int nsess = 1, conc = 32, nthreads = 1, hold = 0, server_pid = 0, in_fd = -1;
static double deadline_s = 600;
static _Atomic int logged_in, go, quitting, done_count;
static _Atomic uint64_t total_bytes;
static _Atomic uint64_t t_first_connect, t_last_login, t_go, t_last_done;
enum { BUF = 256 * 1024 };

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char* f, ...) {
  va_list ap;
  va_start(ap, f);
  fprintf(stderr, "ftpload: ");
  vfprintf(stderr, f, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void max_store(_Atomic uint64_t* a, uint64_t v) {
  uint64_t cur = atomic_load(a);
  while (cur < v && !atomic_compare_exchange_weak(a, &cur, v)) {
  }
}

static void ep_set(struct worker* w, int op, int fd, uint64_t tag, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.u64 = tag};
  if (epoll_ctl(w->ep, op, fd, &ev)) die("epoll_ctl: %s", strerror(errno));
}
static uint64_t tag_of(struct sess* s, int is_data) {
  return ((uint64_t)s->idx << 1) | (uint64_t)is_data;
}

static void send_cmd(struct sess* s, const char* f, ...) {
  char line[600];
  va_list ap;
  va_start(ap, f);
  int n = vsnprintf(line, sizeof line - 2, f, ap);
  va_end(ap);
  line[n++] = '\r';
  line[n++] = '\n';
  /* commands are tiny: a non-blocking send of them never comes up short */
  ssize_t w = send(s->ctl, line, (size_t)n, MSG_NOSIGNAL);
  if (w != n) die("session %d: sending '%.*s': %s", s->idx, n - 2, line, w < 0 ? strerror(errno) : "short");
}

static int open_socket(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket: %s (raise ulimit -n?)", strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void start_session(struct worker* w, struct sess* s) {
  s->ctl = open_socket();
  uint64_t t = now_ns();
  uint64_t zero = 0;
  atomic_compare_exchange_strong(&t_first_connect, &zero, t);
  if (connect(s->ctl, (struct sockaddr*)&addr, sizeof addr) && errno != EINPROGRESS)
    die("session %d: connect: %s", s->idx, strerror(errno));
  s->st = S_CONNECT;
  ep_set(w, EPOLL_CTL_ADD, s->ctl, tag_of(s, 0), EPOLLOUT);
  w->in_login++;
}

static void start_more(struct worker* w) {
  while (w->next < w->n && w->in_login < (conc + nthreads - 1) / nthreads) start_session(w, &w->s[w->next++]);
}

static void start_transfer(struct sess* s) {
  s->prelim = s->final_ok = s->data_done = 0;
  s->moved = 0;
  s->file_off = 0;
  s->st = S_EPSV;
  send_cmd(s, "EPSV");
}

static void close_data(struct sess* s) {
  if (s->data >= 0) {
    close(s->data); /* also leaves the epoll set */
    s->data = -1;
  }
}

static void quit(struct worker* w, struct sess* s) {
  (void)w;
  s->st = S_DONE;
  send_cmd(s, "QUIT");
}

static void maybe_finished(struct sess* s) {
  if (!(s->final_ok && s->data_done)) return;
  if (mode == RETR && have_size && s->moved != size)
    die("session %d: RETR %s: %llu bytes, expected %llu", s->idx, s->path, (unsigned long long)s->moved,
        (unsigned long long)size);
  if (s->out_fd >= 0) {
    close(s->out_fd);
    s->out_fd = -1;
  }
  atomic_fetch_add(&total_bytes, s->moved);
  max_store(&t_last_done, now_ns());
  atomic_fetch_add(&done_count, 1);
  s->st = S_FINISHED; /* QUIT once the server's CPU has been read: vsftpd's
                         session processes exit on QUIT, and their CPU time
                         would be lost until the listener reaps them */
}

static void data_connect(struct worker* w, struct sess* s, int port) {
  struct sockaddr_in a = addr;
  a.sin_port = htons((uint16_t)port);
  s->data = open_socket();
  if (connect(s->data, (struct sockaddr*)&a, sizeof a) && errno != EINPROGRESS)
    die("session %d: data connect to port %d: %s", s->idx, port, strerror(errno));
  s->st = S_DATACONN;
  ep_set(w, EPOLL_CTL_ADD, s->data, tag_of(s, 1), EPOLLOUT);
}

static void stor_send(struct worker* w, struct sess* s) {
  while ((uint64_t)s->file_off < size) {
    size_t left = (size_t)(size - (uint64_t)s->file_off);
    ssize_t n = sendfile(s->data, in_fd, &s->file_off, left > (1u << 30) ? (1u << 30) : left);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        ep_set(w, EPOLL_CTL_MOD, s->data, tag_of(s, 1), EPOLLOUT);
        return;
      }
      die("session %d: STOR %s: sending: %s", s->idx, s->path, strerror(errno));
    }
    if (n == 0) die("session %d: %s is shorter than %llu bytes", s->idx, infile, (unsigned long long)size);
    s->moved += (uint64_t)n;
  }
  close_data(s);
  s->data_done = 1;
  maybe_finished(s);
}

static void on_data(struct worker* w, struct sess* s, uint32_t ev) {
  if (s->st == S_DATACONN) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s->data, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) die("session %d: data connection: %s", s->idx, strerror(err));
    s->st = S_XFER;
    if (mode == RETR) {
      ep_set(w, EPOLL_CTL_MOD, s->data, tag_of(s, 1), EPOLLIN);
      send_cmd(s, "RETR %s", s->path);
    } else {
      ep_set(w, EPOLL_CTL_MOD, s->data, tag_of(s, 1), 0); /* send once 150 is read */
      send_cmd(s, "STOR %s", s->path);
    }
    return;
  }
  if (mode == STOR) {
    if (ev & (EPOLLERR | EPOLLHUP) && !(ev & EPOLLOUT))
      die("session %d: STOR %s: data connection lost", s->idx, s->path);
    stor_send(w, s);
    return;
  }
  for (;;) {
    ssize_t n = recv(s->data, w->buf, BUF, 0);
    if (n > 0) {
      s->moved += (uint64_t)n;
      if (s->out_fd >= 0 && write(s->out_fd, w->buf, (size_t)n) != n)
        die("writing the -o copy: %s", strerror(errno));
      if (n < BUF) return; /* level-triggered: called again if more came */
      continue;
    }
    if (n == 0) {
      close_data(s);
      s->data_done = 1;
      maybe_finished(s);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return;
    die("session %d: RETR %s: %s", s->idx, s->path, strerror(errno));
  }
}

static int parse_epsv(const char* text) {
  const char* p = strchr(text, '(');
  if (!p || !p[1]) return -1;
  char d = p[1];
  if (p[2] != d || p[3] != d) return -1;
  int port = atoi(p + 4);
  return port > 0 && port < 65536 ? port : -1;
}

static int parse_pasv(const char* text) {
  int h1, h2, h3, h4, p1, p2;
  for (const char* p = text + 4; *p; p++)
    if (isdigit((unsigned char)*p) && sscanf(p, "%d,%d,%d,%d,%d,%d", &h1, &h2, &h3, &h4, &p1, &p2) == 6)
      return p1 * 256 + p2;
  return -1;
}

/* A complete reply (its last line, "NNN text"). */
static void on_reply(struct worker* w, struct sess* s, int code, const char* text) {
  switch (s->st) {
    case S_GREET:
      if (code != 220) break;
      s->st = S_USER;
      send_cmd(s, "USER %s", user);
      return;
    case S_USER:
      if (code == 331) {
        s->st = S_PASS;
        send_cmd(s, "PASS %s", pass);
        return;
      }
      if (code != 230) break;
      /* logged in without a password */
      __attribute__((fallthrough));
    case S_PASS:
      if (code != 230) break;
      if (mode == LOGIN) {
        max_store(&t_last_login, now_ns());
        w->in_login--;
        w->ready++;
        s->st = S_READY;
        atomic_fetch_add(&logged_in, 1);
        start_more(w);
        return;
      }
      s->st = S_TYPE;
      send_cmd(s, "TYPE I");
      return;
    case S_TYPE:
      if (code != 200) break;
      max_store(&t_last_login, now_ns());
      s->st = S_READY;
      w->in_login--;
      w->ready++;
      atomic_fetch_add(&logged_in, 1);
      start_more(w);
      return;
    case S_EPSV:
      if (code == 229) {
        int port = parse_epsv(text);
        if (port < 0) break;
        data_connect(w, s, port);
        return;
      }
      if (code >= 500) {
        s->st = S_PASV;
        send_cmd(s, "PASV");
        return;
      }
      break;
    case S_PASV: {
      if (code != 227) break;
      int port = parse_pasv(text);
      if (port < 0) break;
      data_connect(w, s, port);
      return;
    }
    case S_DATACONN:
    case S_XFER:
      if (code == 150 || code == 125) {
        s->prelim = 1;
        if (mode == STOR && s->data >= 0) stor_send(w, s);
        return;
      }
      if (code == 226 || code == 250) {
        s->final_ok = 1;
        maybe_finished(s);
        return;
      }
      break;
    case S_DONE:
      if (code == 221) {
        close(s->ctl);
        s->ctl = -1;
        s->st = S_CLOSED;
        w->closed++;
        return;
      }
      break;
    default:
      break;
  }
  die("session %d: unexpected reply in state %d: %d %s", s->idx, (int)s->st, code, text);
}

static void on_ctl(struct worker* w, struct sess* s, uint32_t ev) {
  if (s->st == S_CONNECT) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s->ctl, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) die("session %d: connect: %s", s->idx, strerror(err));
    s->st = S_GREET;
    ep_set(w, EPOLL_CTL_MOD, s->ctl, tag_of(s, 0), EPOLLIN);
    return;
  }
  (void)ev;
  for (;;) {
    ssize_t n = recv(s->ctl, s->rbuf + s->rlen, sizeof s->rbuf - 1 - s->rlen, 0);
    if (n == 0) {
      if (s->st == S_DONE) { /* closed after QUIT without a 221: fine */
        close(s->ctl);
        s->ctl = -1;
        s->st = S_CLOSED;
        w->closed++;
        return;
      }
      die("session %d: the server closed the control connection (state %d)", s->idx, (int)s->st);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      die("session %d: control connection: %s", s->idx, strerror(errno));
    }
    s->rlen += (size_t)n;
    s->rbuf[s->rlen] = 0;
    /* every complete line; a reply ends with a line "NNN " */
    char* line = s->rbuf;
    char* eol;
    while ((eol = strstr(line, "\r\n")) || (eol = strchr(line, '\n'))) {
      *eol = 0;
      if (strlen(line) >= 4 && isdigit((unsigned char)line[0]) && isdigit((unsigned char)line[1]) &&
          isdigit((unsigned char)line[2]) && line[3] == ' ') {
        int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        on_reply(w, s, code, line);
        if (s->ctl < 0) return;
      }
      line = eol + (eol[1] == '\n' ? 2 : 1);
      if (line > s->rbuf + s->rlen) line = s->rbuf + s->rlen;
    }
    size_t rest = s->rlen - (size_t)(line - s->rbuf);
    memmove(s->rbuf, line, rest);
    s->rlen = rest;
    if (s->rlen >= sizeof s->rbuf - 1)
      die("session %d: a reply line longer than %zu bytes", s->idx, sizeof s->rbuf);
  }
}

static double cpu_of(int pid); /* below */
static double tree_cpu(int root);
static double self_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}
static double cpu_at_go_self, cpu_at_go_server;

/* busy (user + nice + system) and steal seconds of the machine */
static void machine_cpu(double* busy, double* steal) {
  unsigned long long v[8] = {0};
  FILE* f = fopen("/proc/stat", "r");
  *busy = *steal = 0;
  if (!f) return;
  int ok = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                  &v[6], &v[7]) == 8;
  fclose(f);
  if (!ok) return;
  double hz = (double)sysconf(_SC_CLK_TCK);
  /* irq and softirq time left out: with IRQ_TIME_ACCOUNTING (this kernel)
   * it is not in any process's time either, and on loopback most of it is
   * the transfers' own packet processing */
  *busy = (double)(v[0] + v[1] + v[2]) / hz;
  *steal = (double)v[7] / hz;
}

static void wake_all(struct worker* ws) {
  uint64_t one = 1;
  for (int t = 0; t < nthreads; t++)
    if (write(ws[t].wake, &one, sizeof one) < 0) die("eventfd write: %s", strerror(errno));
}

static void* run_worker(void* arg) {
  struct worker* w = arg;
  struct epoll_event evs[256];
  uint64_t give_up = now_ns() + (uint64_t)(deadline_s * 1e9);
  start_more(w);
  for (;;) {
    if (now_ns() > give_up)
      die("gave up after %.0f s (%d of %d sessions logged in, %d transfers done)", deadline_s,
          atomic_load(&logged_in), nsess, atomic_load(&done_count));
    if (w->closed == w->n) return NULL;
    if (mode != LOGIN && w->started == 0 && w->ready == w->n && atomic_load(&go)) {
      for (int i = 0; i < w->n; i++) {
        struct sess* s = &w->s[i];
        if (outdir) {
          char p[1024];
          const char* base = strrchr(s->path, '/');
          snprintf(p, sizeof p, "%s/%s", outdir, base ? base + 1 : s->path);
          s->out_fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
          if (s->out_fd < 0) die("%s: %s", p, strerror(errno));
        }
        start_transfer(s);
      }
      w->started = w->n;
    }
    if (atomic_load(&quitting) && !w->quit_sent) {
      for (int i = 0; i < w->n; i++)
        if (w->s[i].st == S_READY || w->s[i].st == S_FINISHED) quit(w, &w->s[i]);
      w->quit_sent = 1;
    }
    int n = epoll_wait(w->ep, evs, 256, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == UINT64_MAX) {
        uint64_t v;
        if (read(w->wake, &v, sizeof v) < 0) {
        }
        continue;
      }
      struct sess* s = &w->s[evs[i].data.u64 >> 1];
      if (evs[i].data.u64 & 1) {
        if (s->data >= 0) on_data(w, s, evs[i].events);
      } else if (s->ctl >= 0) {
        on_ctl(w, s, evs[i].events);
      }
    }
  }
}

/* ---- CPU of the server's process tree, from /proc ---- */
/* The CPU time of a process: the run time of each of its threads from
 * /proc/PID/task/TID/schedstat (nanoseconds: /proc/PID/stat counts in 10 ms
 * ticks, per process, and vsftpd's 400 short-lived processes each stay
 * under one), plus the times of its children already reaped (cutime and
 * cstime, ticks). */
static int read_first_u64(const char* path, unsigned long long* v) {
  char buf[256];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  return sscanf(buf, "%llu", v) == 1;
}

static double cpu_of(int pid) {
  char path[96], buf[1024];
  double sum = 0;
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR* d = opendir(path);
  if (d) {
    struct dirent* e;
    while ((e = readdir(d))) {
      int tid = atoi(e->d_name);
      unsigned long long ns;
      if (tid <= 0) continue;
      snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", pid, tid);
      if (read_first_u64(path, &ns)) sum += (double)ns / 1e9;
    }
    closedir(d);
  }
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sum;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return sum;
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  if (!p) return sum;
  long long cut, cst;
  /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime
   * cstime */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %lld %lld", &cut, &cst) != 2)
    return sum;
  return sum + (double)(cut + cst) / (double)sysconf(_SC_CLK_TCK);
}

static int ppid_of(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  int ppid;
  if (!p || sscanf(p + 2, "%*c %d", &ppid) != 1) return -1;
  return ppid;
}

/* the CPU seconds of root and every live descendant */
static double tree_cpu(int root) {
  DIR* d = opendir("/proc");
  if (!d) return 0;
  double sum = 0;
  struct dirent* e;
  while ((e = readdir(d))) {
    int pid = atoi(e->d_name);
    if (pid <= 0) continue;
    for (int p = pid, hops = 0; p > 1 && hops < 16; p = ppid_of(p), hops++)
      if (p == root) {
        sum += cpu_of(pid);
        break;
      }
  }
  closedir(d);
  return sum;
}

static void usage(void) {
  die("usage: ftpload login|retr|stor HOST:PORT [-n N] [-u USER] [-w PASS] [-f FORMAT] [-s BYTES] [-i FILE] "
      "[-o DIR] [-c C] [-t T] [-p PID] [-H] [-d SECONDS]");
}

int main(int argc, char** argv) {
  if (argc < 3) usage();
  if (!strcmp(argv[1], "login"))
    mode = LOGIN;
  else if (!strcmp(argv[1], "retr"))
    mode = RETR;
  else if (!strcmp(argv[1], "stor"))
    mode = STOR;
  else
    usage();
  char host[64];
  const char* colon = strrchr(argv[2], ':');
  if (!colon || colon - argv[2] >= (long)sizeof host) usage();
  memcpy(host, argv[2], (size_t)(colon - argv[2]));
  host[colon - argv[2]] = 0;
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)atoi(colon + 1));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("%s: not an IPv4 address", host);
  int opt;
  optind = 3;
  while ((opt = getopt(argc, argv, "n:u:w:f:s:i:o:c:t:p:Hd:")) != -1) {
    switch (opt) {
      case 'n':
        nsess = atoi(optarg);
        break;
      case 'u':
        user = optarg;
        break;
      case 'w':
        pass = optarg;
        break;
      case 'f':
        fmt = optarg;
        break;
      case 's':
        size = strtoull(optarg, NULL, 10);
        have_size = 1;
        break;
      case 'i':
        infile = optarg;
        break;
      case 'o':
        outdir = optarg;
        break;
      case 'c':
        conc = atoi(optarg);
        break;
      case 't':
        nthreads = atoi(optarg);
        break;
      case 'p':
        server_pid = atoi(optarg);
        break;
      case 'H':
        hold = 1;
        break;
      case 'd':
        deadline_s = atof(optarg);
        break;
      default:
        usage();
    }
  }
  if (nsess < 1 || conc < 1 || nthreads < 1) usage();
  if (nthreads > nsess) nthreads = nsess;
  if (mode == STOR) {
    if (!infile) die("stor needs -i FILE");
    in_fd = open(infile, O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) die("%s: %s", infile, strerror(errno));
    struct stat st;
    fstat(in_fd, &st);
    if (!have_size) size = (uint64_t)st.st_size;
    have_size = 1;
  }
  struct rlimit rl;
  if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)(nsess * 2 + 64)) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  struct sess* all = calloc((size_t)nsess, sizeof *all);
  struct worker* ws = calloc((size_t)nthreads, sizeof *ws);
  if (!all || !ws) die("out of memory");
  for (int i = 0; i < nsess; i++) {
    all[i].idx = i;
    all[i].ctl = all[i].data = all[i].out_fd = -1;
    snprintf(all[i].path, sizeof all[i].path, fmt, i);
  }
  int per = nsess / nthreads, extra = nsess % nthreads, at = 0;
  for (int t = 0; t < nthreads; t++) {
    struct worker* w = &ws[t];
    w->n = per + (t < extra);
    w->s = all + at;
    /* session indexes stay global (paths), tags local to the worker */
    for (int i = 0; i < w->n; i++) w->s[i].idx = i;
    at += w->n;
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->buf = malloc(BUF);
    w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->ep < 0 || !w->buf || w->wake < 0) die("epoll_create1 / eventfd / malloc failed");
    ep_set(w, EPOLL_CTL_ADD, w->wake, UINT64_MAX, EPOLLIN);
  }
  /* the paths used the global index above; tags use the local one */
  double cpu_start_self = self_cpu(), cpu_start_server = server_pid ? tree_cpu(server_pid) : 0;
  double busy0, steal0, busy1, steal1;
  machine_cpu(&busy0, &steal0);
  for (int t = 0; t < nthreads; t++)
    if (pthread_create(&ws[t].tid, NULL, run_worker, &ws[t])) die("pthread_create failed");

  /* wait for every session to be logged in */
  uint64_t t0 = now_ns();
  while (atomic_load(&logged_in) < nsess) {
    if (now_ns() - t0 > (uint64_t)(deadline_s * 1e9))
      die("not all sessions logged in within %.0f s", deadline_s);
    usleep(1000);
  }
  double login_s = (double)(atomic_load(&t_last_login) - atomic_load(&t_first_connect)) / 1e9;
  double seconds = login_s, cpu_self, cpu_server;
  if (mode == LOGIN) {
    machine_cpu(&busy1, &steal1);
    cpu_self = self_cpu() - cpu_start_self;
    cpu_server = server_pid ? tree_cpu(server_pid) - cpu_start_server : 0;
    if (hold) {
      printf("READY %d\n", nsess);
      fflush(stdout);
      char c[256];
      while (read(0, c, sizeof c) > 0) {
      }
    }
  } else {
    cpu_at_go_self = self_cpu();
    cpu_at_go_server = server_pid ? tree_cpu(server_pid) : 0;
    machine_cpu(&busy0, &steal0);
    atomic_store(&t_go, now_ns());
    atomic_store(&go, 1);
    wake_all(ws);
    while (atomic_load(&done_count) < nsess) {
      if (now_ns() - t0 > (uint64_t)(deadline_s * 1e9))
        die("only %d of %d transfers done within %.0f s", atomic_load(&done_count), nsess, deadline_s);
      usleep(1000);
    }
    seconds = (double)(atomic_load(&t_last_done) - atomic_load(&t_go)) / 1e9;
    machine_cpu(&busy1, &steal1);
    cpu_self = self_cpu() - cpu_at_go_self;
    cpu_server = server_pid ? tree_cpu(server_pid) - cpu_at_go_server : 0;
  }
  atomic_store(&quitting, 1);
  wake_all(ws);
  for (int t = 0; t < nthreads; t++) pthread_join(ws[t].tid, NULL);
  /* over the timed part (its wall time: seconds), in cores */
  double other = server_pid && seconds > 0 ? (busy1 - busy0 - cpu_self - cpu_server) / seconds : 0;
  if (other < 0) other = 0;
  double steal = seconds > 0 ? (steal1 - steal0) / seconds : 0;
  printf(
      "RESULT seconds=%.6f bytes=%llu login_seconds=%.6f client_cpu=%.3f server_cpu=%.3f other=%.2f "
      "steal=%.2f\n",
      seconds, (unsigned long long)atomic_load(&total_bytes), login_s, cpu_self, cpu_server, other, steal);
  return 0;
}
