/*
 * deploy/images/src/kubia — the program of the book's luksa/kubia image
 * (and, built with -DKUBIA_UNHEALTHY, of luksa/kubia-unhealthy). A toy HTTP
 * server on port 8080: every request is answered 200 "You've hit
 * <hostname>\n" (the unhealthy build answers 500 "I'm not well. Please
 * restart me!" from the 6th request on), and logged to stdout as "Received
 * request from <client ip>". It runs as a container's main process, so it
 * exits 0 on SIGTERM, and bad input never crashes it: headers are read up to
 * a fixed limit, slow or silent clients time out, and every connection is
 * closed after one answer.
 *
 * ZKUBE_KUBIA_LISTEN=IPV4:PORT overrides 0.0.0.0:8080, only for tests that
 * run it on the host (loopback).
 * Built statically (no libraries in the image).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>

#define S_MAX_CONN 64   /* clients served at once; more wait in the backlog */
#define S_HDR_MAX 8192  /* request head limit; beyond it: 431 and close */
#define S_IDLE_MS 10000 /* a client silent this long is dropped */

typedef struct {
    int fd; /* -1 when the slot is free */
    size_t len;
    long long deadline_ms;
    char ip[INET6_ADDRSTRLEN];
    char buf[S_HDR_MAX];
} s_conn_t;

static volatile sig_atomic_t s_stop;
static s_conn_t s_conns[S_MAX_CONN];
static unsigned long s_requests;

static void s_on_term(int sig)
{
    (void)sig;
    s_stop = 1;
}

static long long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where to listen: 0.0.0.0:8080, as the image does. Tests that run the
 * program on the host set ZKUBE_KUBIA_LISTEN=127.0.0.1:PORT. */
static int s_listen(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080)};
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    const char *e = getenv("ZKUBE_KUBIA_LISTEN");
    char host[64];
    unsigned port = 0;
    if (e && (sscanf(e, "%63[0-9.]:%u", host, &port) != 2 || port < 1 || port > 65535 ||
              inet_pton(AF_INET, host, &sa.sin_addr) != 1)) {
        fprintf(stderr, "kubia: ZKUBE_KUBIA_LISTEN: want IPV4:PORT, got \"%s\"\n", e);
        return -1;
    }
    if (e)
        sa.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
        fprintf(stderr, "kubia: cannot listen on port %u: %s\n", ntohs(sa.sin_port),
                strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Writes all of buf, waiting briefly for room; gives up on a stuck client. */
static void s_write_all(int fd, const char *buf, size_t n)
{
    long long deadline = s_now_ms() + 2000;
    while (n > 0 && s_now_ms() < deadline) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 100);
        } else {
            return;
        }
    }
}

static void s_reply(int fd, int code, const char *reason, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     code, reason, strlen(body));
    s_write_all(fd, head, (size_t)n);
    s_write_all(fd, body, strlen(body));
}

/* One complete request head arrived: log it and answer as the image does. */
static void s_answer(s_conn_t *c)
{
    char host[256] = "", body[320];
    printf("Received request from %s\n", c->ip);
    s_requests++;
#ifdef KUBIA_UNHEALTHY
    if (s_requests > 5) {
        s_reply(c->fd, 500, "Internal Server Error", "I'm not well. Please restart me!");
        return;
    }
#endif
    if (gethostname(host, sizeof host - 1) < 0)
        strcpy(host, "unknown");
    snprintf(body, sizeof body, "You've hit %s\n", host);
    s_reply(c->fd, 200, "OK", body);
}

static void s_close(s_conn_t *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static int s_head_complete(const s_conn_t *c)
{
    return memmem(c->buf, c->len, "\r\n\r\n", 4) || memmem(c->buf, c->len, "\n\n", 2);
}

/* Reads what the client sent; answers once the blank line is in. */
static void s_on_readable(s_conn_t *c)
{
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        s_close(c);
        return;
    }
    c->len += (size_t)r;
    if (s_head_complete(c)) {
        s_answer(c);
        s_close(c);
    } else if (c->len == sizeof c->buf) {
        s_reply(c->fd, 431, "Request Header Fields Too Large", "request head too large\n");
        s_close(c);
    }
}

/* A free slot; when all are busy, the one idle longest is dropped, so
 * silent clients can never lock out new ones (a liveness probe). */
static s_conn_t *s_slot(void)
{
    s_conn_t *oldest = &s_conns[0];
    for (int i = 0; i < S_MAX_CONN; i++) {
        if (s_conns[i].fd < 0)
            return &s_conns[i];
        if (s_conns[i].deadline_ms < oldest->deadline_ms)
            oldest = &s_conns[i];
    }
    s_close(oldest);
    return oldest;
}

static void s_accept(int lfd)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        s_conn_t *c = s_slot();
        c->fd = fd;
        c->len = 0;
        c->deadline_ms = s_now_ms() + S_IDLE_MS;
        strcpy(c->ip, "unknown");
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->ip, sizeof c->ip);
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->ip, sizeof c->ip);
    }
}

static void s_serve(int lfd)
{
    struct pollfd p[S_MAX_CONN + 1];
    while (!s_stop) {
        int n = 0;
        p[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < S_MAX_CONN; i++)
            p[n++] = (struct pollfd){.fd = s_conns[i].fd, .events = POLLIN};
        if (poll(p, (nfds_t)n, 500) < 0 && errno != EINTR)
            return;
        long long now = s_now_ms();
        for (int i = 0; i < S_MAX_CONN; i++) {
            s_conn_t *c = &s_conns[i];
            short ev = p[i + 1].revents;
            if (c->fd >= 0 && p[i + 1].fd == c->fd && (ev & (POLLIN | POLLHUP | POLLERR)))
                s_on_readable(c);
            if (c->fd >= 0 && now > c->deadline_ms)
                s_close(c);
        }
        if (p[0].revents & POLLIN)
            s_accept(lfd);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = s_on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    for (int i = 0; i < S_MAX_CONN; i++)
        s_conns[i].fd = -1;
    printf("Kubia server starting...\n");
    int lfd = s_listen();
    if (lfd < 0)
        return 1;
    s_serve(lfd);
    return 0;
}
