/*
 * The bench's request-by-request HTTP client (bench/timeline.ts): `concurrency` connections, one HTTP/1.0 request
 * per connection (as ab without -k), for `seconds`; then one line per finished request: its start (µs on
 * CLOCK_MONOTONIC, the clock of Node's process.hrtime), its latency in µs, and 1 when the answer was a 200.
 * ab cannot say when a request started (its -g file has whole seconds), so it cannot place a request beside a reload.
 * A few dozen lines of C and epoll keep the client's own CPU small beside the haproxy it measures.
 * Usage: timeline-client PORT CONCURRENCY SECONDS OUTFILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct { int fd; long long start; int sent; int status_ok; long got; } conn;

static const char request[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
static struct sockaddr_in address;
static int poller;

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static void open_connection(conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  c->start = now_us();
  c->sent = 0;
  c->status_ok = 0;
  c->got = 0;
  if (c->fd < 0) return;
  connect(c->fd, (struct sockaddr *)&address, sizeof address);
  struct epoll_event event = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };
  epoll_ctl(poller, EPOLL_CTL_ADD, c->fd, &event);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s PORT CONCURRENCY SECONDS OUTFILE\n", argv[0]);
    return 2;
  }
  int concurrency = atoi(argv[2]);
  long long end = now_us() + (long long)(atof(argv[3]) * 1e6);
  FILE *out = fopen(argv[4], "w");
  if (out == NULL || concurrency <= 0) return 2;
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)atoi(argv[1]));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  poller = epoll_create1(0);
  conn *connections = calloc((size_t)concurrency, sizeof *connections);
  size_t capacity = 1 << 16, count = 0;
  long long *records = malloc(capacity * 3 * sizeof *records);
  if (connections == NULL || records == NULL) return 2;
  for (int i = 0; i < concurrency; i++) open_connection(&connections[i]);
  struct epoll_event events[256];
  char buffer[4096];
  while (now_us() < end) {
    int ready = epoll_wait(poller, events, 256, 50);
    for (int i = 0; i < ready; i++) {
      conn *c = events[i].data.ptr;
      int done = (events[i].events & EPOLLERR) != 0;
      if (!done && !c->sent && (events[i].events & EPOLLOUT)) {
        if (write(c->fd, request, sizeof request - 1) == (ssize_t)(sizeof request - 1)) {
          c->sent = 1;
          struct epoll_event event = { .events = EPOLLIN, .data.ptr = c };
          epoll_ctl(poller, EPOLL_CTL_MOD, c->fd, &event);
        } else if (errno != EAGAIN) {
          done = 1;
        }
      }
      while (!done && (events[i].events & (EPOLLIN | EPOLLHUP))) {
        ssize_t n = read(c->fd, buffer, sizeof buffer);
        if (n > 0) {
          if (c->got == 0) c->status_ok = n >= 12 && memcmp(buffer + 9, "200", 3) == 0;
          c->got += n;
        } else {
          if (n == 0 || errno != EAGAIN) done = 1;
          break;
        }
      }
      if (!done) continue;
      if (count == capacity) {
        capacity *= 2;
        long long *grown = realloc(records, capacity * 3 * sizeof *records);
        if (grown == NULL) return 2;
        records = grown;
      }
      records[3 * count] = c->start;
      records[3 * count + 1] = now_us() - c->start;
      records[3 * count + 2] = c->sent && c->status_ok;
      count++;
      close(c->fd);
      open_connection(c);
    }
  }
  for (size_t i = 0; i < count; i++) fprintf(out, "%lld %lld %lld\n", records[3 * i], records[3 * i + 1], records[3 * i + 2]);
  return fclose(out) == 0 ? 0 : 1;
}
