/*
 * The bench's request-by-request HTTP client (bench/timeline.ts): `concurrency` connections, one HTTP/1.0 request
 * per connection (as ab without -k), for `seconds`; then one line per finished request: its start (µs on
 * CLOCK_MONOTONIC, the clock of Node's process.hrtime), its latency in µs, and 1 when the answer was a 200.
 * ab cannot say when a request started (its -g file has whole seconds), so it cannot place a request beside a reload.
 * A few dozen lines of C and epoll keep the client's own CPU small beside the haproxy it measures.
 * Built with -DWITH_TLS (and -lssl -lcrypto), a fifth argument `tls` makes each connection a TLS 1.2 one with a full
 * handshake and no session reuse, as `ab -f TLS1.2` (the certificate is not verified: the bench made it).
 * Usage: timeline-client PORT CONCURRENCY SECONDS OUTFILE [tls]
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
#ifdef WITH_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
static SSL_CTX *context;
#endif

typedef struct {
  int fd;
  long long start;
  int sent;
  int status_ok;
  long got;
#ifdef WITH_TLS
  SSL *tls;
#endif
} conn;

static const char request[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
static struct sockaddr_in address;
static int poller;

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static void watch(conn *c, unsigned events) {
  struct epoll_event event = { .events = events, .data.ptr = c };
  epoll_ctl(poller, EPOLL_CTL_MOD, c->fd, &event);
}

static void open_connection(conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  c->start = now_us();
  c->sent = 0;
  c->status_ok = 0;
  c->got = 0;
  if (c->fd < 0) return;
  connect(c->fd, (struct sockaddr *)&address, sizeof address);
#ifdef WITH_TLS
  if (context != NULL) {
    c->tls = SSL_new(context);
    SSL_set_fd(c->tls, c->fd);
    SSL_set_connect_state(c->tls);
  }
#endif
  struct epoll_event event = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };
  epoll_ctl(poller, EPOLL_CTL_ADD, c->fd, &event);
}

static void close_connection(conn *c) {
#ifdef WITH_TLS
  if (c->tls != NULL) SSL_free(c->tls);
  c->tls = NULL;
#endif
  close(c->fd);
}

/* The first bytes of the answer: whether it is a 200. */
static void got(conn *c, const char *buffer, long n) {
  if (c->got == 0) c->status_ok = n >= 12 && memcmp(buffer + 9, "200", 3) == 0;
  c->got += n;
}

/* Plain HTTP: write the request once writable, then read until the server closes. 1 when the request is over. */
static int step_plain(conn *c, unsigned events, char *buffer, size_t size) {
  if (events & EPOLLERR) return 1;
  if (!c->sent && (events & EPOLLOUT)) {
    if (write(c->fd, request, sizeof request - 1) != (ssize_t)(sizeof request - 1)) return errno != EAGAIN;
    c->sent = 1;
    watch(c, EPOLLIN);
  }
  while (events & (EPOLLIN | EPOLLHUP)) {
    ssize_t n = read(c->fd, buffer, size);
    if (n <= 0) return n == 0 || errno != EAGAIN;
    got(c, buffer, n);
  }
  return 0;
}

#ifdef WITH_TLS
/* TLS: the handshake, the request and the answer, each resumed where OpenSSL asked to wait. */
static int step_tls(conn *c, unsigned events, char *buffer, size_t size) {
  if (events & EPOLLERR) return 1;
  for (;;) {
    int result;
    if (!SSL_is_init_finished(c->tls)) {
      result = SSL_do_handshake(c->tls);
    } else if (!c->sent) {
      result = SSL_write(c->tls, request, sizeof request - 1);
      if (result > 0) c->sent = 1;
    } else {
      result = SSL_read(c->tls, buffer, (int)size);
      if (result > 0) got(c, buffer, result);
    }
    if (result > 0) continue;
    int error = SSL_get_error(c->tls, result);
    ERR_clear_error();
    if (error == SSL_ERROR_WANT_READ) watch(c, EPOLLIN);
    else if (error == SSL_ERROR_WANT_WRITE) watch(c, EPOLLOUT);
    else return 1; /* the server's close_notify or its close: the answer is over (or failed) */
    return 0;
  }
}
#endif

int main(int argc, char **argv) {
  if (argc != 5 && !(argc == 6 && strcmp(argv[5], "tls") == 0)) {
    fprintf(stderr, "usage: %s PORT CONCURRENCY SECONDS OUTFILE [tls]\n", argv[0]);
    return 2;
  }
  int (*step)(conn *, unsigned, char *, size_t) = step_plain;
  if (argc == 6) {
#ifdef WITH_TLS
    context = SSL_CTX_new(TLS_client_method());
    if (context == NULL || !SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) || !SSL_CTX_set_max_proto_version(context, TLS1_2_VERSION)) return 2;
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, NULL);
    step = step_tls;
#else
    fprintf(stderr, "%s: built without TLS (-DWITH_TLS)\n", argv[0]);
    return 2;
#endif
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
      if (!step(c, events[i].events, buffer, sizeof buffer)) continue;
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
      close_connection(c);
      open_connection(c);
    }
  }
  for (size_t i = 0; i < count; i++) fprintf(out, "%lld %lld %lld\n", records[3 * i], records[3 * i + 1], records[3 * i + 2]);
  return fclose(out) == 0 ? 0 : 1;
}
