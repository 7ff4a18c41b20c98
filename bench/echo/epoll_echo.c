/* Minimal C epoll echo server: the ceiling for sockit's echo benchmark.
 *
 * Usage: epoll_echo [PORT] [THREADS]      (defaults: 0 and 2)
 *
 * One thread per core, each with its own SO_REUSEPORT listener on the same
 * port and its own level-triggered epoll loop, which is the shape sockit's
 * Engine has (one io_context per core). Prints `tcp://127.0.0.1:PORT` on
 * stdout once every listener is bound, then serves until SIGTERM/SIGINT.
 *
 * Per connection it keeps nothing but the fd while no write is pending: reads
 * go to one 64 KiB buffer per thread. Only when the peer's receive window is
 * full does the unsent rest get copied to a heap buffer and the fd switch to
 * EPOLLOUT until it drains, with reading paused (back pressure).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 256

struct conn { /* only allocated for a connection with unsent bytes */
  int fd;
  size_t len, off;
  char* pending;
};

/* epoll data: listener and idle connections store the fd with the low bit
 * tagged; connections with a pending write store a struct conn *. */
#define TAG_FD(fd) ((uint64_t)(fd) << 1 | 1u)
#define IS_FD(u) ((u)&1u)
#define FD_OF(u) ((int)((u) >> 1))

static int port;
static volatile sig_atomic_t stop;

static void die(const char* what) {
  perror(what);
  exit(1);
}

static int make_listener(int p) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) die("SO_REUSEPORT");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&a, sizeof a)) die("bind 127.0.0.1");
  if (listen(fd, SOMAXCONN)) die("listen");
  return fd;
}

static void close_conn(int ep, int fd, struct conn* c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  if (c) {
    free(c->pending);
    free(c);
  }
}

/* Writes what it can; returns the number of bytes left unsent, -1 on error. */
static ssize_t write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return (ssize_t)n;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void on_readable(int ep, int fd, char* buf) {
  for (int rounds = 0; rounds < 16; rounds++) { /* bounded: be fair to others */
    ssize_t r = recv(fd, buf, BUF_SIZE, 0);
    if (r == 0) {
      close_conn(ep, fd, NULL);
      return;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      close_conn(ep, fd, NULL);
      return;
    }
    ssize_t left = write_all(fd, buf, (size_t)r);
    if (left < 0) {
      close_conn(ep, fd, NULL);
      return;
    }
    if (left > 0) {
      struct conn* c = malloc(sizeof *c);
      if (!c) die("malloc");
      c->fd = fd;
      c->len = (size_t)left;
      c->off = 0;
      c->pending = malloc((size_t)left);
      if (!c->pending) die("malloc");
      memcpy(c->pending, buf + (r - left), (size_t)left);
      struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
      epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
      return;
    }
    if (r < BUF_SIZE) return;
  }
}

static void on_writable(int ep, struct conn* c) {
  ssize_t left = write_all(c->fd, c->pending + c->off, c->len - c->off);
  if (left < 0) {
    close_conn(ep, c->fd, c);
    return;
  }
  if (left > 0) {
    c->off = c->len - (size_t)left;
    return;
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = TAG_FD(c->fd)};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  free(c->pending);
  free(c);
}

static void* loop(void* arg) {
  int lfd = (int)(intptr_t)arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_FD(lfd)};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) die("epoll_ctl listener");
  char* buf = malloc(BUF_SIZE);
  if (!buf) die("malloc");
  struct epoll_event evs[MAX_EVENTS];
  while (!stop) {
    int n = epoll_wait(ep, evs, MAX_EVENTS, 500);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      uint64_t u = evs[i].data.u64;
      if (!IS_FD(u)) {
        on_writable(ep, evs[i].data.ptr);
        continue;
      }
      int fd = FD_OF(u);
      if (fd == lfd) {
        for (int k = 0; k < 64; k++) {
          int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break; /* EAGAIN, or EMFILE: retried next wake-up */
          int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = TAG_FD(c)};
          if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev)) close(c);
        }
        continue;
      }
      on_readable(ep, fd, buf);
    }
  }
  return NULL;
}

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char** argv) {
  port = argc > 1 ? atoi(argv[1]) : 0;
  int threads = argc > 2 ? atoi(argv[2]) : 2;
  if (threads < 1 || threads > 256) {
    fprintf(stderr, "epoll_echo: THREADS must be 1..256\n");
    return 2;
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int* lfds = calloc((size_t)threads, sizeof *lfds);
  lfds[0] = make_listener(port);
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  if (getsockname(lfds[0], (struct sockaddr*)&a, &al)) die("getsockname");
  port = ntohs(a.sin_port);
  for (int i = 1; i < threads; i++) lfds[i] = make_listener(port);
  printf("tcp://127.0.0.1:%d\n", port);
  fflush(stdout);

  pthread_t* t = calloc((size_t)threads, sizeof *t);
  for (int i = 0; i < threads; i++)
    if (pthread_create(&t[i], NULL, loop, (void*)(intptr_t)lfds[i])) die("pthread_create");
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  return 0;
}
