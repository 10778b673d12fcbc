/*
 * WebSocket clients of one odin-ws channel that only read: the floor's reader (bench/floor/fanout.c) in front
 * of a real server. Opens N connections to 127.0.0.1:PORT, each upgrading with `GET /ws?subscribe=CHANNEL`
 * (the subscribe rides on the upgrade, so the client sends nothing after it), about 2,000 a second, spread
 * over SOURCES source addresses 127.0.0.2.. (0: 127.0.0.1 only); then reads everything through one
 * level-triggered epoll set, one read per ready socket, and discards it, for SECONDS. Prints "connected"
 * on stdout once every upgrade is sent, the latency of a window on stdout (SIGUSR1 opens it, SIGUSR2 closes and
 * prints it), and what it read on stderr at the end.
 *
 *   wsreader PORT N CHANNEL SECONDS [CORE] [SOURCES]
 *
 * What it is for: S2's CPU per delivery includes the receiving side's TCP work, which loopback runs inside
 * the server's send(2); this reader is the floor's, so the server's figure with it compares with the floor's
 * receiver for receiver (bench/tools/reader_cost.py). It answers no ping: keep SECONDS under the server's
 * idle timeout. Loopback only, bounded in connections and time; exits by itself.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 19000 /* one descriptor per connection, of this machine's 20,000 */
#define CONNECTS_PER_SECOND 2000.0

static void die(const char *what) {
  fprintf(stderr, "wsreader: %s: %s\n", what, strerror(errno));
  exit(2);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static char buf[65536];
static long bytes;
static int open_sockets;

/*
 * Server-to-client latency over a window the caller opens with SIGUSR1 and closes with SIGUSR2 (which prints it on
 * stdout as one JSON line): for each frame, this clock's time at the read less the envelope's "ts" (the server's
 * poll time, milliseconds since the epoch), so within a millisecond, as the generator's figure is. A frame split
 * across two reads is not counted.
 */
#define LAT_BUCKETS 100000 /* 0.1 ms each, to 10 s */
#define MAX_MESSAGES 4096
static volatile sig_atomic_t window_open, window_done;
static long lat_hist[LAT_BUCKETS + 1], lat_frames;
static long msg_ts[MAX_MESSAGES], msg_frames[MAX_MESSAGES];
static double msg_last_ms[MAX_MESSAGES];
static int messages;

static void on_signal(int sig) {
  if (sig == SIGUSR1) window_open = 1;
  else window_done = 1;
}

static double realtime_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The envelope's ts after each `{"seq":` in what one read returned. */
static void record_latencies(const char *p, ssize_t len, double now_ms) {
  const char *end = p + len;
  while ((p = memmem(p, end - p, "{\"seq\":", 7)) != NULL) {
    p += 7;
    const char *t = memmem(p, end - p < 40 ? end - p : 40, "\"ts\":", 5);
    if (t == NULL) continue;
    long ts = 0;
    const char *d = t + 5;
    while (d < end && *d >= '0' && *d <= '9') ts = ts * 10 + (*d++ - '0');
    if (d == end || ts == 0) continue;
    double lat = now_ms - ts;
    long b = lat < 0 ? 0 : (long)(lat * 10);
    lat_hist[b > LAT_BUCKETS ? LAT_BUCKETS : b]++;
    lat_frames++;
    int m = messages;
    while (m > 0 && msg_ts[m - 1] != ts && m > messages - 8) m--; /* a message's frames come close together */
    if (m > 0 && msg_ts[m - 1] == ts) {
      msg_frames[m - 1]++;
      if (now_ms > msg_last_ms[m - 1]) msg_last_ms[m - 1] = now_ms;
    } else if (messages < MAX_MESSAGES) {
      msg_ts[messages] = ts;
      msg_frames[messages] = 1;
      msg_last_ms[messages++] = now_ms;
    }
  }
}

static double lat_quantile(double q) {
  long want = (long)(q * lat_frames), seen = 0;
  if (want >= lat_frames) want = lat_frames - 1; /* q = 1: the last frame */
  for (long b = 0; b <= LAT_BUCKETS; b++) {
    seen += lat_hist[b];
    if (seen > want) return (b + 1) / 10.0;
  }
  return LAT_BUCKETS / 10.0;
}

static int by_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One JSON line: frames' latency quantiles, and each message's last frame after its ts (its whole fan-out as read). */
static void print_window(void) {
  static double last[MAX_MESSAGES];
  int k = 0;
  for (int m = 0; m < messages; m++)
    if (msg_frames[m] > 1) last[k++] = msg_last_ms[m] - msg_ts[m];
  qsort(last, k, sizeof last[0], by_double);
  printf("{\"frames\":%ld,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"p999_ms\":%.1f,\"max_ms\":%.1f,\"messages\":%d,"
         "\"last_frame_ms_median\":%.1f,\"last_frame_ms_max\":%.1f,\"over_10s\":%ld}\n",
         lat_frames, lat_quantile(0.5), lat_quantile(0.99), lat_quantile(0.999), lat_quantile(1.0), k,
         k ? last[k / 2] : 0.0, k ? last[k - 1] : 0.0, lat_hist[LAT_BUCKETS]);
  fflush(stdout);
}

/* Reads what is ready, waiting at most timeout_ms; a socket the server closed leaves the set. */
static void read_ready(int ep, int timeout_ms) {
  struct epoll_event events[512];
  int k = epoll_wait(ep, events, 512, timeout_ms);
  if (k < 0 && errno != EINTR) die("epoll_wait");
  for (int i = 0; i < k; i++) {
    ssize_t r = read(events[i].data.fd, buf, sizeof buf);
    if (r > 0) {
      bytes += r;
      if (window_open && !window_done) record_latencies(buf, r, realtime_ms());
    } else if (r == 0 || errno != EAGAIN) {
      epoll_ctl(ep, EPOLL_CTL_DEL, events[i].data.fd, NULL);
      close(events[i].data.fd);
      open_sockets--;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: wsreader PORT N CHANNEL SECONDS [CORE] [SOURCES]\n");
    return 2;
  }
  int port = atoi(argv[1]), n = atoi(argv[2]);
  const char *channel = argv[3];
  double seconds = atof(argv[4]);
  int core = argc > 5 ? atoi(argv[5]) : -1, sources = argc > 6 ? atoi(argv[6]) : 0;
  if (port < 1 || port > 65535 || n < 1 || n > MAX_CONNECTIONS || seconds <= 0 || seconds > 600 || sources < 0 ||
      sources > 250 || strlen(channel) > 200 || strpbrk(channel, " \r\n")) {
    fprintf(stderr, "wsreader: PORT 1..65535, N 1..%d, CHANNEL without spaces, SECONDS 0..600, SOURCES 0..250\n",
            MAX_CONNECTIONS);
    return 2;
  }
  if (core >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
  }
  char request[512];
  int request_len = snprintf(request, sizeof request,
                             "GET /ws?subscribe=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n",
                             channel, port);
  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (sources > 0) {
      struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = 0};
      from.sin_addr.s_addr = htonl(0x7f000002 + (i % sources));
      if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0) die("bind");
    }
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (write(fd, request, request_len) != request_len) die("write");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    open_sockets++;
    /* keeps to the ramp, reading the answers meanwhile */
    while (now_s() < t0 + (i + 1) / CONNECTS_PER_SECOND) read_ready(ep, 1);
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  printf("connected\n");
  fflush(stdout);
  double end = now_s() + seconds;
  int printed = 0;
  while (now_s() < end && open_sockets > 0) {
    read_ready(ep, 100);
    if (window_done && !printed) {
      print_window();
      printed = 1;
    }
  }
  fprintf(stderr, "wsreader: %d connections, %d open at the end, %ld bytes read\n", n, open_sockets, bytes);
  return 0;
}
