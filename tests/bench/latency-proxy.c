/*
 * tests/bench/latency-proxy.c — a TCP relay on loopback that puts a fixed
 * one-way delay between a client and a server, so that an S3 server on
 * 127.0.0.1 looks as far away as a real region:
 *
 *   latency-proxy --to HOST:PORT [--listen PORT] [--stats PORT] [--delay-ms MS]
 *
 * Every byte read from one side is written to the other side MS milliseconds
 * after it arrived (default 10, so a request/response turn costs 2 x MS of
 * round trip). The delay is a property of the path, not of each packet: bytes
 * that arrive while earlier ones are still waiting are not delayed further, so
 * an 8 MiB body streams at the speed of the two ends, shifted by MS.
 *
 * A pure byte relay: TLS passes through unchanged and the client keeps
 * addressing 127.0.0.1:PORT (path-style S3 requests then carry the same Host
 * header as they would directly, and a certificate for 127.0.0.1 still
 * matches).
 *
 * Each accepted connection gets two threads, one per direction; a direction
 * keeps at most MAX_QUEUED bytes waiting and stops reading beyond that, so a
 * slow receiver slows its sender instead of growing memory.
 *
 * Counters (for "how many S3 requests did this client make"): connections,
 * turns in each direction (a turn starts when data flows in the direction
 * opposite to the last data seen on that connection), and requests: client
 * turns that carry an HTTP request. On a plain connection that is every client
 * turn. On a TLS connection (its first byte is a handshake record) the
 * client's records are followed, and a turn carries a request when it holds
 * an application-data record (0x17) beyond the handshake: any, in a turn that
 * starts with application data or a handshake record (TLS 1.2's second
 * flight, 0-RTT); a second one in a turn that starts with change-cipher-spec
 * (0x14: TLS 1.3's second flight in OpenSSL's compatibility mode, whose first
 * 0x17 record is the encrypted Finished; libcurl and Python send the first
 * request right behind it). Records under 32 bytes (TLS 1.3's encrypted
 * close_notify, key updates) are not application data here.
 * Without HTTP pipelining (libcurl does not pipeline) and without
 * "Expect: 100-continue" (libseaftier turns it off) each request is one turn. A connection to the --stats port
 * receives one line "connections N requests N client_turns N server_turns N
 * bytes_up N bytes_down N" and is closed.
 *
 * On start it prints "listen PORT stats PORT" (the ports actually bound; 0
 * picks free ones) on stdout and keeps running until SIGTERM/SIGINT.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_MAX (256 * 1024)
#define MAX_QUEUED (64u * 1024 * 1024)
#define THREAD_STACK (256 * 1024)
#define MIN_REQUEST_RECORD 32

static struct sockaddr_in target;
static int64_t delay_ns = 10 * 1000000LL;

static atomic_uint_fast64_t n_connections, n_requests, n_client_turns, n_server_turns, n_bytes_up,
    n_bytes_down;

typedef struct Chunk {
    struct Chunk *next;
    int64_t due_ns;
    size_t len, off;
    unsigned char data[];
} Chunk;

/* One TCP connection pair. Both direction threads share it; the last one to
 * finish closes the sockets and frees it. */
/* The client's TLS records, followed by the client->server thread only. */
typedef struct {
    int tls;                      /* -1 unknown yet, 0 plain, 1 TLS */
    size_t rec_left;              /* body bytes of the current record still to come */
    unsigned char hdr[5];         /* a record header being read */
    size_t hdr_have;
    int turn_first;               /* content type of the turn's first record, -1 none */
    int turn_appdata;             /* 0x17 records seen in this turn */
    int turn_counted;             /* this turn was counted as a request */
} ClientRecords;

typedef struct {
    int client_fd, server_fd;
    atomic_int last_dir;   /* -1 none yet, 0 client->server, 1 server->client */
    atomic_int refs;
    ClientRecords rec;
} Pair;

typedef struct {
    Pair *pair;
    int dir;               /* 0: client -> server, 1: server -> client */
} Direction;

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
pair_release(Pair *p)
{
    if (atomic_fetch_sub(&p->refs, 1) == 1) {
        close(p->client_fd);
        close(p->server_fd);
        free(p);
    }
}

/* Follows the client's TLS records through `len` bytes of one turn and
 * counts the turn as a request once it holds application data (see the top
 * of this file). */
static void
follow_records(ClientRecords *r, const unsigned char *data, size_t len)
{
    while (len > 0) {
        if (r->rec_left > 0) {
            size_t n = len < r->rec_left ? len : r->rec_left;
            r->rec_left -= n, data += n, len -= n;
            continue;
        }
        r->hdr[r->hdr_have++] = *data++;
        len--;
        if (r->hdr_have < sizeof r->hdr)
            continue;
        r->hdr_have = 0;
        r->rec_left = ((size_t)r->hdr[3] << 8) | r->hdr[4];
        int type = r->hdr[0];
        if (r->turn_first < 0)
            r->turn_first = type;
        /* a 0x17 record too short to hold an HTTP request line is TLS 1.3's
         * encrypted close_notify (19 bytes) or a key update, not a request */
        if (type == 0x17 && r->rec_left >= MIN_REQUEST_RECORD)
            r->turn_appdata++;
        int request = r->turn_appdata >= (r->turn_first == 0x14 ? 2 : 1);
        if (request && !r->turn_counted) {
            r->turn_counted = 1;
            atomic_fetch_add(&n_requests, 1);
        }
    }
}

/* Counts a turn when data flows in `dir` after data flowed the other way (or
 * first on the connection), and the requests among the client's turns. */
static void
note_data(Pair *p, int dir, const unsigned char *data, size_t len)
{
    int prev = atomic_exchange(&p->last_dir, dir);
    if (dir == 0) {
        ClientRecords *r = &p->rec;
        atomic_fetch_add(&n_bytes_up, len);
        if (r->tls < 0)
            r->tls = data[0] == 0x16;
        if (prev != 0) {
            atomic_fetch_add(&n_client_turns, 1);
            r->turn_first = -1;
            r->turn_appdata = 0;
            r->turn_counted = 0;
            if (!r->tls)
                atomic_fetch_add(&n_requests, 1);
        }
        if (r->tls)
            follow_records(r, data, len);
    } else {
        atomic_fetch_add(&n_bytes_down, len);
        if (prev != 1)
            atomic_fetch_add(&n_server_turns, 1);
    }
}

/* Relays one direction: reads into time-stamped chunks, writes each chunk
 * once its due time has come. On EOF it half-closes the destination after the
 * queue drained; on an error it shuts both sockets down so the other
 * direction ends too. */
static void *
direction_main(void *arg)
{
    Direction *d = arg;
    Pair *p = d->pair;
    int src = d->dir == 0 ? p->client_fd : p->server_fd;
    int dst = d->dir == 0 ? p->server_fd : p->client_fd;
    Chunk *head = NULL, *tail = NULL;
    size_t queued = 0;
    int eof = 0, failed = 0;

    while (!failed && (!eof || head)) {
        int64_t now = now_ns();
        /* write every chunk that is due */
        while (head && head->due_ns <= now) {
            ssize_t w = send(dst, head->data + head->off, head->len - head->off, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                failed = 1;
                break;
            }
            head->off += (size_t)w;
            if (head->off == head->len) {
                Chunk *done = head;
                head = head->next;
                if (!head)
                    tail = NULL;
                queued -= done->len;
                free(done);
            }
        }
        if (failed || (eof && !head))
            break;
        int timeout_ms = -1;
        if (head) {
            int64_t wait = head->due_ns - now_ns();
            timeout_ms = wait <= 0 ? 0 : (int)((wait + 999999) / 1000000);
        }
        struct pollfd pfd = { .fd = src, .events = POLLIN };
        int want_read = !eof && queued < MAX_QUEUED;
        int r = poll(&pfd, want_read ? 1 : 0, timeout_ms);
        if (r < 0 && errno != EINTR) {
            failed = 1;
            break;
        }
        if (r <= 0 || !want_read)
            continue;
        Chunk *c = malloc(sizeof *c + CHUNK_MAX);
        if (!c) {
            failed = 1;
            break;
        }
        ssize_t n = recv(src, c->data, CHUNK_MAX, 0);
        if (n <= 0) {
            free(c);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                failed = 1;
            eof = 1;
            continue;
        }
        c->due_ns = now_ns() + delay_ns;
        c->len = (size_t)n;
        c->off = 0;
        c->next = NULL;
        note_data(p, d->dir, c->data, c->len);
        if (tail)
            tail->next = c;
        else
            head = c;
        tail = c;
        queued += c->len;
    }
    while (head) {
        Chunk *next = head->next;
        free(head);
        head = next;
    }
    if (failed) {
        shutdown(p->client_fd, SHUT_RDWR);
        shutdown(p->server_fd, SHUT_RDWR);
    } else {
        shutdown(dst, SHUT_WR);
    }
    pair_release(p);
    free(d);
    return NULL;
}

static int
spawn(void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc;
}

static void
handle_client(int client_fd)
{
    int server_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (server_fd < 0 || connect(server_fd, (struct sockaddr *)&target, sizeof target) < 0) {
        fprintf(stderr, "latency-proxy: connect to %s:%d: %s\n", inet_ntoa(target.sin_addr),
                ntohs(target.sin_port), strerror(errno));
        if (server_fd >= 0)
            close(server_fd);
        close(client_fd);
        return;
    }
    int one = 1;
    setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(server_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Pair *p = calloc(1, sizeof *p);
    Direction *up = calloc(1, sizeof *up), *down = calloc(1, sizeof *down);
    if (!p || !up || !down) {
        free(p), free(up), free(down);
        close(client_fd), close(server_fd);
        return;
    }
    p->client_fd = client_fd;
    p->server_fd = server_fd;
    atomic_init(&p->last_dir, -1);
    p->rec.tls = -1;
    p->rec.turn_first = -1;
    atomic_init(&p->refs, 2);
    up->pair = p, up->dir = 0;
    down->pair = p, down->dir = 1;
    atomic_fetch_add(&n_connections, 1);
    if (spawn(direction_main, up) != 0) {
        free(up), free(down), free(p);
        close(client_fd), close(server_fd);
        return;
    }
    if (spawn(direction_main, down) != 0) {
        /* the up thread owns one reference; this side's is dropped here */
        free(down);
        shutdown(client_fd, SHUT_RDWR);
        shutdown(server_fd, SHUT_RDWR);
        pair_release(p);
    }
}

static int
listen_on(int port, int *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 512) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        fprintf(stderr, "latency-proxy: listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        exit(1);
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

static void
serve_stats(int fd)
{
    char line[256];
    int n = snprintf(line, sizeof line,
                     "connections %ju requests %ju client_turns %ju server_turns %ju bytes_up %ju "
                     "bytes_down %ju\n",
                     (uintmax_t)atomic_load(&n_connections), (uintmax_t)atomic_load(&n_requests),
                     (uintmax_t)atomic_load(&n_client_turns), (uintmax_t)atomic_load(&n_server_turns),
                     (uintmax_t)atomic_load(&n_bytes_up), (uintmax_t)atomic_load(&n_bytes_down));
    if (send(fd, line, (size_t)n, MSG_NOSIGNAL) < 0)
        fprintf(stderr, "latency-proxy: stats: %s\n", strerror(errno));
    close(fd);
}

static void
usage(void)
{
    fprintf(stderr, "usage: latency-proxy --to HOST:PORT [--listen PORT] [--stats PORT] [--delay-ms MS]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    int listen_port = 0, stats_port = 0;
    const char *to = NULL;
    double delay_ms = 10;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--to") == 0)
            to = argv[++i];
        else if (strcmp(argv[i], "--listen") == 0)
            listen_port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--stats") == 0)
            stats_port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--delay-ms") == 0)
            delay_ms = strtod(argv[++i], NULL);
        else
            usage();
    }
    const char *colon = to ? strrchr(to, ':') : NULL;
    if (!colon || delay_ms < 0 || delay_ms > 10000)
        usage();
    char host[64];
    size_t hl = (size_t)(colon - to);
    if (hl >= sizeof host)
        usage();
    memcpy(host, to, hl);
    host[hl] = '\0';
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &target.sin_addr) != 1) {
        fprintf(stderr, "latency-proxy: --to needs an IPv4 address, not \"%s\"\n", host);
        return 2;
    }
    delay_ns = (int64_t)(delay_ms * 1e6);
    signal(SIGPIPE, SIG_IGN);

    int lport, sport;
    int lfd = listen_on(listen_port, &lport);
    int sfd = listen_on(stats_port, &sport);
    printf("listen %d stats %d\n", lport, sport);
    fflush(stdout);

    struct pollfd pfd[2] = { { .fd = lfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("latency-proxy: poll");
            return 1;
        }
        for (int k = 0; k < 2; k++) {
            if (!(pfd[k].revents & POLLIN))
                continue;
            int fd = accept4(pfd[k].fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            if (k == 0)
                handle_client(fd);
            else
                serve_stats(fd);
        }
    }
}
