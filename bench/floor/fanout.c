/*
 * The kernel's floor for S2 on this machine: what it costs to push one small frame to each of N
 * loopback TCP connections, with no server around it. A parent pinned to one core writes the same
 * frame to every connection (one send(2) per connection per message, as a fan-out server must when
 * messages to a connection do not queue up), `rate` times per second for `seconds`; a child pinned to
 * the other core reads everything through epoll, as the load generator does. The parent's CPU time
 * per write is the least any server can spend per delivery here, in any language.
 *
 *   fanout N FRAME_BYTES RATE SECONDS [FRAMES_PER_WRITE] [WRITER_CORE] [READER_CORE] [uring]
 *
 * send(2) with no flags is the call Netty's epoll transport makes for one buffer; write(2) on the same
 * socket goes through the file layer first and costs more per call on this machine.
 *
 * FRAMES_PER_WRITE k > 1 sends k frames per write (writev), i.e. k messages to a connection that
 * queued up: the cost per frame falls with k. `uring` (built with -DWITH_URING -luring) submits a
 * message's sends to all N connections through io_uring, thousands per io_uring_enter instead of one
 * syscall each: what is left per delivery is the TCP send itself, not the syscall around it.
 *
 * Prints one JSON object on stdout; reader_behind_s is how long the reader still had to read after
 * the last write (over a fraction of a second: it was the limit).
 * Loopback only (127.0.0.1), bounded in connections and time; both processes exit by themselves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#ifdef WITH_URING
#include <liburing.h>
#endif

#define MAX_CONNECTIONS 19000 /* one descriptor per connection in each process, of this machine's 20,000 */
#define MAX_FRAMES_PER_WRITE 64
#define URING_ENTRIES 4096 /* submission ring; completions get 4 x as many, so a full ring never overflows them */

static void die(const char *what) {
  fprintf(stderr, "fanout: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void pin(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

/* The reader: connects n sockets, then reads until every one is closed by the writer. */
static void reader(int port, int n, int core, int ready_fd) {
  pin(core);
  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) die("connect");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
  }
  if (write(ready_fd, "r", 1) != 1) die("ready");
  static char buf[65536];
  struct epoll_event events[512];
  int open = n;
  while (open > 0) {
    int k = epoll_wait(ep, events, 512, 30000);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) die("epoll_wait (nothing for 30 s)");
    for (int i = 0; i < k; i++) {
      ssize_t r = read(events[i].data.fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        close(events[i].data.fd);
        open--;
      }
    }
  }
  exit(0);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: fanout N FRAME_BYTES RATE SECONDS [FRAMES_PER_WRITE] [WRITER_CORE] [READER_CORE]\n");
    return 2;
  }
  int n = atoi(argv[1]), frame_bytes = atoi(argv[2]);
  double rate = atof(argv[3]), seconds = atof(argv[4]);
  int per_write = argc > 5 ? atoi(argv[5]) : 1;
  int writer_core = argc > 6 ? atoi(argv[6]) : 0, reader_core = argc > 7 ? atoi(argv[7]) : 1;
  int uring = argc > 8 && strcmp(argv[8], "uring") == 0;
#ifndef WITH_URING
  if (uring) {
    fprintf(stderr, "fanout: built without io_uring (gcc -DWITH_URING ... -luring, needs liburing-dev)\n");
    return 2;
  }
#endif
  if (uring && per_write != 1) {
    fprintf(stderr, "fanout: uring sends one frame per send\n");
    return 2;
  }
  if (n < 1 || n > MAX_CONNECTIONS || frame_bytes < 2 || frame_bytes > 65536 || rate <= 0 || seconds <= 0 || seconds > 600 ||
      per_write < 1 || per_write > MAX_FRAMES_PER_WRITE) {
    fprintf(stderr, "fanout: N 1..%d, FRAME_BYTES 2..65536, RATE > 0, SECONDS 0..600, FRAMES_PER_WRITE 1..%d\n",
            MAX_CONNECTIONS, MAX_FRAMES_PER_WRITE);
    return 2;
  }
  pin(writer_core);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  if (ls < 0) die("socket");
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = 0};
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *)&at, sizeof at) != 0) die("bind");
  if (listen(ls, 4096) != 0) die("listen");
  socklen_t len = sizeof at;
  getsockname(ls, (struct sockaddr *)&at, &len);
  int ready[2];
  if (pipe(ready) != 0) die("pipe");
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(ls);
    close(ready[0]);
    reader(ntohs(at.sin_port), n, reader_core, ready[1]);
  }
  close(ready[1]);
  int *fds = malloc(sizeof(int) * n);
  for (int i = 0; i < n; i++) {
    fds[i] = accept(ls, NULL, NULL);
    if (fds[i] < 0) die("accept");
    int one = 1;
    setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as Netty sets it */
  }
  char r;
  if (read(ready[0], &r, 1) != 1) die("reader not ready");

  /* A WebSocket text frame: FIN + opcode 1, 16-bit length when over 125 bytes, then text. */
  char *frame = malloc(frame_bytes);
  memset(frame, 'x', frame_bytes);
  frame[0] = (char)0x81;
  if (frame_bytes - 2 <= 125) {
    frame[1] = (char)(frame_bytes - 2);
  } else {
    frame[1] = 126;
    frame[2] = (char)((frame_bytes - 4) >> 8);
    frame[3] = (char)(frame_bytes - 4);
  }
  struct iovec iov[MAX_FRAMES_PER_WRITE];
  for (int i = 0; i < per_write; i++) {
    iov[i].iov_base = frame;
    iov[i].iov_len = frame_bytes;
  }

#ifdef WITH_URING
  struct io_uring ring;
  if (uring) {
    struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE, .cq_entries = 4 * URING_ENTRIES};
    int e = io_uring_queue_init_params(URING_ENTRIES, &ring, &p);
    if (e < 0) {
      errno = -e;
      die("io_uring_queue_init");
    }
  }
#endif
  long messages = (long)(rate * seconds);
  double interval = 1.0 / rate, t0 = now_s(), cpu0 = cpu_s(), fanout_total = 0, fanout_max = 0;
  long writes = 0;
  for (long m = 0; m < messages; m++) {
    double due = t0 + m * interval, t = now_s();
    if (due > t) {
      struct timespec pause = {(time_t)(due - t), (long)((due - t - (time_t)(due - t)) * 1e9)};
      nanosleep(&pause, NULL);
    }
    double start = now_s();
#ifdef WITH_URING
    if (uring) {
      /* queue a send per connection; submit when the ring is full and once at the end, then reap all */
      for (int i = 0; i < n; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
        if (sqe == NULL) {
          io_uring_submit(&ring);
          sqe = io_uring_get_sqe(&ring);
        }
        io_uring_prep_send(sqe, fds[i], frame, frame_bytes, 0);
        writes++;
      }
      io_uring_submit_and_wait(&ring, n < 4 * URING_ENTRIES ? n : 4 * URING_ENTRIES);
      for (int done = 0; done < n;) {
        struct io_uring_cqe *cqe;
        int e = io_uring_wait_cqe(&ring, &cqe);
        if (e < 0) {
          errno = -e;
          die("io_uring_wait_cqe");
        }
        if (cqe->res < 0) {
          errno = -cqe->res;
          die("send");
        }
        io_uring_cqe_seen(&ring, cqe);
        done++;
      }
    } else
#endif
    for (int i = 0; i < n; i++) {
      ssize_t w = per_write == 1 ? send(fds[i], frame, frame_bytes, 0) : writev(fds[i], iov, per_write);
      if (w < 0) die("send"); /* blocking sockets: a reader that falls behind makes the send wait */
      writes++;
    }
    double took = now_s() - start;
    fanout_total += took;
    if (took > fanout_max) fanout_max = took;
  }
  double cpu = cpu_s() - cpu0, wall = now_s() - t0;
  /* the reader exits once it has read everything and seen every close: how far behind it was */
  for (int i = 0; i < n; i++) close(fds[i]);
  int status;
  waitpid(child, &status, 0);
  double reader_behind = now_s() - t0 - wall;
  printf("{\"connections\":%d,\"frame_bytes\":%d,\"rate\":%g,\"seconds\":%.2f,\"frames_per_write\":%d,"
         "\"writes\":%ld,\"writer_cpu_s\":%.3f,\"writer_core_share\":%.3f,"
         "\"cpu_us_per_write\":%.3f,\"cpu_us_per_frame\":%.3f,\"fanout_ms_mean\":%.2f,\"fanout_ms_max\":%.2f,"
         "\"reader_behind_s\":%.2f,\"syscall\":\"%s\"}\n",
         n, frame_bytes, rate, wall, per_write, writes, cpu, cpu / wall, cpu * 1e6 / writes,
         cpu * 1e6 / (writes * (double)per_write), fanout_total * 1e3 / messages, fanout_max * 1e3,
         reader_behind, uring ? "io_uring" : per_write == 1 ? "send" : "writev");
  return 0;
}
