/* The S3 client against answers the real RGW never gives, produced by a
 * small proxy in this program that sits in front of RGW, forwards each
 * request byte for byte and rewrites the answer:
 *  - an object body without Content-Length (cut short or even whole) is not
 *    taken as the object: it is an INCOMPLETE (transient) error;
 *  - a 200 of CompleteMultipartUpload carrying an <Error>, and a 200 of
 *    CopyObject cut short, are INCOMPLETE (retried soon), not permanent;
 *  - answers larger than the caps are refused without reading them whole;
 *  - a key with "." / ".." segments is sent exactly as it was signed;
 *  - a read-through fill whose GET is held while the object is deleted (and
 *    the delete carried to S3 and forgotten) does not bring it back.
 * And secrets stay out of core files: seaftierd and a process that opened
 * the Seafile backends end up with no core limit and non-dumpable, unless
 * `[tier] dumpable = true`; the log file is created 0600. */
#include "seaftier-build.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seaftier/backend.h>
#include <seaftier/config.h>
#include <seaftier/log.h>
#include <seaftier/s3.h>

#include "../common/s3test.h"
#include "tier/tier.h"

/* ---- the rewriting proxy ---- */

typedef enum {
    MODE_PASS,             /* forward; only "Connection: close" is added */
    MODE_NO_LENGTH_HALF,   /* drop Content-Length, send half the body, close */
    MODE_NO_LENGTH_WHOLE,  /* drop Content-Length, send the whole body, close */
    MODE_COMPLETE_ERROR,   /* CompleteMultipartUpload: 200 with an <Error> body */
    MODE_COPY_SHORT,       /* CopyObject: 200 with a CopyObjectResult cut short */
    MODE_HUGE_LENGTH,      /* GET: 200 announcing 4 GiB, bytes until the client gives up */
    MODE_HUGE_STREAM,      /* GET: 200 without length, 96 MiB of XML-ish bytes */
    MODE_HOLD_GET,         /* an object GET's answer from RGW is held until released */
} Mode;

#define HUGE_STREAM_BYTES ((gsize)96 << 20)

typedef struct {
    int listen_fd;
    int port;
    int upstream_port;
    GThread *thread;
    GMutex lock;
    Mode mode;               /* under lock */
    GPtrArray *requests;     /* "METHOD target", under lock */
    gsize sent;              /* body bytes of the last invented answer, under lock */
    GCond cond;
    gboolean holding;        /* a GET is held (MODE_HOLD_GET), under lock */
    gboolean released;       /* under lock */
    gboolean stop;
} Proxy;

static Proxy proxy;

static gboolean
send_all(int fd, const void *buf, gsize len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FALSE;
        p += w;
        len -= (gsize)w;
    }
    return TRUE;
}

/* The value of header `name` in a header block, or NULL (g_free). */
static char *
header_value(const char *headers, const char *name)
{
    gsize n = strlen(name);
    for (const char *line = headers; line && *line; ) {
        const char *end = strstr(line, "\r\n");
        if (!end)
            break;
        if ((gsize)(end - line) > n && g_ascii_strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            return g_strndup(v, (gsize)(end - v));
        }
        line = end + 2;
    }
    return NULL;
}

/* The header block without the lines named in `drop` (NULL-terminated). */
static GString *
headers_without(const char *headers, gsize len, const char *const *drop)
{
    GString *out = g_string_new(NULL);
    const char *line = headers, *stop = headers + len;
    while (line < stop) {
        const char *end = g_strstr_len(line, stop - line, "\r\n");
        if (!end)
            end = stop;
        gboolean keep = TRUE;
        for (int i = 0; drop[i]; i++) {
            gsize n = strlen(drop[i]);
            if ((gsize)(end - line) > n && g_ascii_strncasecmp(line, drop[i], n) == 0 &&
                line[n] == ':')
                keep = FALSE;
        }
        if (keep && end > line) {
            g_string_append_len(out, line, end - line);
            g_string_append(out, "\r\n");
        }
        line = end + 2;
    }
    return out;
}

/* Reads one request (headers and Content-Length body). */
static GByteArray *
read_request(int fd, gsize *header_len)
{
    GByteArray *buf = g_byte_array_new();
    char chunk[65536];
    gssize body_len = -1;
    for (;;) {
        if (body_len < 0) {
            guint8 *end = buf->len >= 4 ? memmem(buf->data, buf->len, "\r\n\r\n", 4) : NULL;
            if (end) {
                *header_len = (gsize)(end - buf->data) + 4;
                char *head = g_strndup((const char *)buf->data, *header_len);
                char *cl = header_value(head, "Content-Length");
                body_len = cl ? g_ascii_strtoll(cl, NULL, 10) : 0;
                g_free(cl);
                g_free(head);
            }
        }
        if (body_len >= 0 && buf->len >= *header_len + (gsize)body_len)
            return buf;
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            g_byte_array_unref(buf);
            return NULL;
        }
        g_byte_array_append(buf, (const guint8 *)chunk, (guint)r);
    }
}

/* Sends the request to RGW with "Connection: close" (not signed) and reads
 * the whole answer. */
static GByteArray *
forward(const GByteArray *req, gsize header_len)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((guint16)proxy.upstream_port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    static const char *const drop[] = { "Connection", NULL };
    GString *head = headers_without((const char *)req->data, header_len - 2, drop);
    g_string_append(head, "Connection: close\r\n\r\n");
    gboolean ok = send_all(fd, head->str, head->len) &&
                  send_all(fd, req->data + header_len, req->len - header_len);
    g_string_free(head, TRUE);
    GByteArray *resp = g_byte_array_new();
    char chunk[65536];
    ssize_t r;
    while (ok && ((r = recv(fd, chunk, sizeof chunk, 0)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            g_byte_array_append(resp, (const guint8 *)chunk, (guint)r);
    close(fd);
    return resp;
}

static void
answer_xml(int fd, const char *body)
{
    /* With the SSE-C echo a real server gives: only the body is wrong. */
    char *msg = g_strdup_printf("HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                                "x-amz-server-side-encryption-customer-algorithm: AES256\r\n"
                                "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                strlen(body), body);
    send_all(fd, msg, strlen(msg));
    g_free(msg);
}

/* Streams `limit` bytes (or until the client closes) after `head`. */
static void
answer_stream(int fd, const char *head, gsize limit)
{
    send_all(fd, head, strlen(head));
    static char fill[65536];
    memset(fill, 'x', sizeof fill);
    gsize sent = 0;
    while (sent < limit && send_all(fd, fill, MIN(sizeof fill, limit - sent)))
        sent += MIN(sizeof fill, limit - sent);
    g_mutex_lock(&proxy.lock);
    proxy.sent = sent;
    g_mutex_unlock(&proxy.lock);
}

static void
serve(int fd)
{
    gsize header_len = 0;
    GByteArray *req = read_request(fd, &header_len);
    if (!req)
        return;
    char *line_end = memmem(req->data, header_len, "\r\n", 2);
    char *line = g_strndup((const char *)req->data, (gsize)(line_end - (char *)req->data));
    char **parts = g_strsplit(line, " ", 3);
    const char *method = parts[0] ? parts[0] : "";
    const char *target = parts[0] && parts[1] ? parts[1] : "";
    char *head = g_strndup((const char *)req->data, header_len);
    char *copy_source = header_value(head, "x-amz-copy-source");
    g_mutex_lock(&proxy.lock);
    Mode mode = proxy.mode;
    g_ptr_array_add(proxy.requests, g_strdup_printf("%s %s", method, target));
    g_mutex_unlock(&proxy.lock);

    gboolean get = strcmp(method, "GET") == 0;
    if (mode == MODE_COMPLETE_ERROR && strcmp(method, "POST") == 0 && strstr(target, "uploadId=")) {
        answer_xml(fd, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
                       "<Message>We encountered an internal error. Please try again.</Message>"
                       "</Error>");
    } else if (mode == MODE_COPY_SHORT && strcmp(method, "PUT") == 0 && copy_source) {
        answer_xml(fd, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult><LastMod");
    } else if (mode == MODE_HUGE_LENGTH && get) {
        answer_stream(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n"
                          "Connection: close\r\n\r\n", (gsize)16 << 20);
    } else if (mode == MODE_HUGE_STREAM && get) {
        answer_stream(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                          "Connection: close\r\n\r\n", HUGE_STREAM_BYTES);
    } else {
        GByteArray *resp = forward(req, header_len);
        if (mode == MODE_HOLD_GET && get && !strchr(target, '?')) {
            /* RGW has answered; the answer is on its way for a while. */
            g_mutex_lock(&proxy.lock);
            proxy.holding = TRUE;
            g_cond_broadcast(&proxy.cond);
            while (!proxy.released)
                g_cond_wait(&proxy.cond, &proxy.lock);
            proxy.holding = FALSE;
            g_mutex_unlock(&proxy.lock);
        }
        guint8 *split = resp ? memmem(resp->data, resp->len, "\r\n\r\n", 4) : NULL;
        if (split) {
            gsize hl = (gsize)(split - resp->data) + 2;
            gsize body_len = resp->len - hl - 2;
            const guint8 *body = split + 4;
            gboolean strip = mode == MODE_NO_LENGTH_HALF || mode == MODE_NO_LENGTH_WHOLE;
            static const char *const drop_conn[] = { "Connection", NULL };
            static const char *const drop_len[] = { "Connection", "Content-Length", NULL };
            GString *h = headers_without((const char *)resp->data, hl,
                                         strip && get ? drop_len : drop_conn);
            g_string_append(h, "Connection: close\r\n\r\n");
            if (strip && get && mode == MODE_NO_LENGTH_HALF)
                body_len /= 2;
            if (send_all(fd, h->str, h->len))
                send_all(fd, body, body_len);
            g_string_free(h, TRUE);
        }
        if (resp)
            g_byte_array_unref(resp);
    }
    g_free(copy_source);
    g_free(head);
    g_strfreev(parts);
    g_free(line);
    g_byte_array_unref(req);
}

static gpointer
proxy_main(gpointer data)
{
    (void)data;
    while (!g_atomic_int_get(&proxy.stop)) {
        struct pollfd p = { proxy.listen_fd, POLLIN, 0 };
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept4(proxy.listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve(fd);
        shutdown(fd, SHUT_RDWR);
        close(fd);
    }
    return NULL;
}

static void
proxy_start(void)
{
    const S3TestServer *srv = s3test_server();
    proxy.upstream_port = srv->http_port;
    proxy.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(proxy.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(proxy.listen_fd, 16), 0);
    assert_int_equal(getsockname(proxy.listen_fd, (struct sockaddr *)&a, &alen), 0);
    proxy.port = ntohs(a.sin_port);
    g_mutex_init(&proxy.lock);
    g_cond_init(&proxy.cond);
    proxy.requests = g_ptr_array_new_with_free_func(g_free);
    proxy.thread = g_thread_new("proxy", proxy_main, NULL);
}

static void
proxy_stop(void)
{
    g_atomic_int_set(&proxy.stop, TRUE);
    g_thread_join(proxy.thread);
    close(proxy.listen_fd);
    g_ptr_array_free(proxy.requests, TRUE);
    g_cond_clear(&proxy.cond);
    g_mutex_clear(&proxy.lock);
}

static void
proxy_mode(Mode mode)
{
    g_mutex_lock(&proxy.lock);
    proxy.mode = mode;
    proxy.sent = 0;
    proxy.released = FALSE;
    g_ptr_array_set_size(proxy.requests, 0);
    g_mutex_unlock(&proxy.lock);
}

/* ---- fixture: one bucket, a client through the proxy, one direct ---- */

static char *bucket;
static SeaftierS3 *via_proxy, *direct;

static SeaftierS3 *
client(gboolean through_proxy, guint64 part_size)
{
    S3TestVariant v = { .v4 = TRUE, .path_style = TRUE, .https = FALSE, .sse_c = TRUE };
    SeaftierS3Config *cfg = s3test_config(bucket, &v);
    cfg->max_retries = 1;
    if (through_proxy)
        cfg->port = proxy.port;
    if (part_size)
        cfg->multipart_part_size = part_size;
    GError *err = NULL;
    SeaftierS3 *s3 = seaftier_s3_new(cfg, &err);
    if (!s3)
        fail_msg("client: %s", err->message);
    s3test_config_free(cfg);
    return s3;
}

static int
group_setup(void **state)
{
    (void)state;
    bucket = s3test_new_bucket("answers");
    proxy_start();
    via_proxy = client(TRUE, 0);
    direct = client(FALSE, 0);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    seaftier_s3_free(via_proxy);
    seaftier_s3_free(direct);
    proxy_stop();
    g_free(bucket);
    return 0;
}

static guint8 *
pattern(gsize len, guint32 seed)
{
    guint8 *p = g_malloc(len);
    GRand *r = g_rand_new_with_seed(seed);
    for (gsize i = 0; i < len; i++)
        p[i] = (guint8)g_rand_int(r);
    g_rand_free(r);
    return p;
}

static void
put_direct(const char *key, const void *data, gsize len)
{
    GError *err = NULL;
    if (!seaftier_s3_put(direct, key, data, len, 0, &err))
        fail_msg("put %s: %s", key, err->message);
}

static void
assert_incomplete(GError *err)
{
    assert_non_null(err);
    if (!g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_INCOMPLETE))
        fail_msg("expected INCOMPLETE, got code %d: %s", err->code, err->message);
    assert_true(seaftier_s3_error_is_transient(err));
}

/* ---- object bodies must be proven complete ---- */

static void
test_get_through_proxy(void **state)
{
    (void)state;
    gsize len = 100 * 1024;
    guint8 *data = pattern(len, 1);
    put_direct("answers/whole", data, len);
    proxy_mode(MODE_PASS);
    void *got = NULL;
    gsize got_len = 0;
    GError *err = NULL;
    if (!seaftier_s3_get(via_proxy, "answers/whole", &got, &got_len, &err))
        fail_msg("get: %s", err->message);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, data, len);
    g_free(got);
    g_free(data);
}

static void
test_get_cut_without_length(void **state)
{
    (void)state;
    gsize len = 100 * 1024;
    guint8 *data = pattern(len, 2);
    put_direct("answers/cut", data, len);
    for (int whole = 0; whole < 2; whole++) {
        proxy_mode(whole ? MODE_NO_LENGTH_WHOLE : MODE_NO_LENGTH_HALF);
        void *got = NULL;
        gsize got_len = 0;
        GError *err = NULL;
        gboolean ok = seaftier_s3_get(via_proxy, "answers/cut", &got, &got_len, &err);
        if (ok)
            fail_msg("a body without Content-Length (%s, %zu bytes) was taken as the object",
                     whole ? "whole" : "cut short", got_len);
        assert_incomplete(err);
        g_error_free(err);
    }
    g_free(data);
}

/* ---- 200 answers that report failure ---- */

static void
test_complete_multipart_error_is_transient(void **state)
{
    (void)state;
    SeaftierS3 *mp = client(TRUE, (guint64)5 << 20);
    gsize len = (gsize)6 << 20;
    guint8 *data = pattern(len, 3);
    proxy_mode(MODE_COMPLETE_ERROR);
    GError *err = NULL;
    assert_false(seaftier_s3_put(mp, "answers/multipart", data, len, 0, &err));
    assert_incomplete(err);
    assert_non_null(strstr(err->message, "InternalError"));
    g_error_free(err);
    /* The same upload through an honest path succeeds. */
    proxy_mode(MODE_PASS);
    if (!seaftier_s3_put(mp, "answers/multipart", data, len, 0, &err))
        fail_msg("put: %s", err->message);
    seaftier_s3_free(mp);
    g_free(data);
}

static void
test_copy_cut_short_is_transient(void **state)
{
    (void)state;
    guint8 *data = pattern(1000, 4);
    put_direct("answers/copy-src", data, 1000);
    proxy_mode(MODE_COPY_SHORT);
    GError *err = NULL;
    assert_false(seaftier_s3_copy(via_proxy, "answers/copy-src", "answers/copy-dst", &err));
    assert_incomplete(err);
    g_error_free(err);
    g_free(data);
}

/* ---- size caps ---- */

static void
test_huge_answer_refused(void **state)
{
    (void)state;
    GError *err = NULL;
    void *got = NULL;
    gsize got_len = 0;
    proxy_mode(MODE_HUGE_LENGTH);
    assert_false(seaftier_s3_get(via_proxy, "answers/huge", &got, &got_len, &err));
    assert_non_null(err);
    if (!g_error_matches(err, SEAFTIER_S3_ERROR, SEAFTIER_S3_ERROR_BAD_RESPONSE) ||
        !strstr(err->message, "larger than"))
        fail_msg("a 4 GiB answer: %s", err->message);
    g_clear_error(&err);

    /* No length to refuse up front: the body is cut at the cap. */
    proxy_mode(MODE_HUGE_STREAM);
    SeaftierS3ListPage *page = NULL;
    assert_false(seaftier_s3_list_page(via_proxy, "answers/", NULL, 0, &page, &err));
    assert_non_null(err);
    if (!strstr(err->message, "larger than"))
        fail_msg("a %zu-byte listing: %s", HUGE_STREAM_BYTES, err->message);
    g_clear_error(&err);
    g_mutex_lock(&proxy.lock);
    gsize sent = proxy.sent;
    g_mutex_unlock(&proxy.lock);
    assert_true(sent < HUGE_STREAM_BYTES);
}

/* ---- keys are sent as signed ---- */

static void
test_dot_segments_sent_as_signed(void **state)
{
    (void)state;
    const char *key = "answers/a/../b/./c";
    guint8 *data = pattern(3000, 5);
    proxy_mode(MODE_PASS);
    GError *err = NULL;
    gboolean put_ok = seaftier_s3_put(via_proxy, key, data, 3000, 0, &err);
    g_mutex_lock(&proxy.lock);
    gboolean seen = FALSE;
    for (guint i = 0; i < proxy.requests->len; i++)
        seen = seen || strstr(proxy.requests->pdata[i], "/answers/a/../b/./c") != NULL;
    g_mutex_unlock(&proxy.lock);
    if (!seen)
        fail_msg("the path was rewritten on the way (put: %s)", put_ok ? "ok" : err->message);
    if (!put_ok)
        fail_msg("put %s: %s", key, err->message);
    void *got = NULL;
    gsize got_len = 0;
    if (!seaftier_s3_get(direct, key, &got, &got_len, &err))
        fail_msg("get %s: %s", key, err->message);
    assert_int_equal(got_len, 3000);
    assert_memory_equal(got, data, 3000);
    g_free(got);
    g_free(data);
}

/* ---- a read-through fill racing a delete ---- */

typedef struct {
    ObjBackend *bend;
    const char *repo, *id;
    void *data;
    int len;
    int rc;
} ReadJob;

static gpointer
read_thread(gpointer p)
{
    ReadJob *j = p;
    j->rc = j->bend->read(j->bend, j->repo, 1, j->id, &j->data, &j->len);
    return NULL;
}

static void
test_fill_racing_delete_not_resurrected(void **state)
{
    (void)state;
    char *dir = s3test_tmpdir("answers-race");
    S3TestVariant v = { .v4 = TRUE, .path_style = TRUE, .https = FALSE, .sse_c = FALSE };
    char *conf = s3test_write_seafile_conf(dir, "answersr", &v, NULL);
    /* seaf-server's backends talk to S3 through the proxy. */
    char *text = NULL;
    assert_true(g_file_get_contents(conf, &text, NULL, NULL));
    char *from = g_strdup_printf("127.0.0.1:%d", proxy.upstream_port);
    char *to = g_strdup_printf("127.0.0.1:%d", proxy.port);
    char **pieces = g_strsplit(text, from, -1);
    char *joined = g_strjoinv(to, pieces);
    assert_true(g_file_set_contents(conf, joined, -1, NULL));
    GKeyFile *kf = g_key_file_new();
    assert_true(g_key_file_load_from_data(kf, joined, (gsize)-1, G_KEY_FILE_NONE, NULL));
    GError *err = NULL;
    ObjBackend *fs = obj_backend_tier_new(dir, "fs", kf, &err);
    if (!fs)
        fail_msg("backend: %s", err->message);

    /* The object is in S3 (evicted here long ago). */
    const char *repo = "6a1f1c2e-0d3b-4c5a-8e9f-0a1b2c3d4e5f";
    const char *id = "5e1d0c3b2a19f8e7d6c5b4a39281706f5e4d3c2b";
    char *fs_bucket = g_key_file_get_string(kf, "fs_object_backend", "bucket", NULL);
    SeaftierS3Config *dcfg = s3test_config(fs_bucket, &v);
    SeaftierS3 *s3 = seaftier_s3_new(dcfg, &err);
    assert_non_null(s3);
    char *key = g_strdup_printf("%s/%s", repo, id);
    guint8 *data = pattern(2000, 6);
    if (!seaftier_s3_put(s3, key, data, 2000, 0, &err))
        fail_msg("put: %s", err->message);

    /* A reader misses and its GET is held on the way ... */
    proxy_mode(MODE_HOLD_GET);
    ReadJob job = { fs, repo, id, NULL, 0, -1 };
    GThread *reader = g_thread_new("reader", read_thread, &job);
    g_mutex_lock(&proxy.lock);
    while (!proxy.holding)
        g_cond_wait(&proxy.cond, &proxy.lock);
    g_mutex_unlock(&proxy.lock);

    /* ... Seafile deletes the object, seaftierd (here: another handle on
     * the tier, as the daemon has) deletes it in S3 and forgets the row ... */
    fs->delete(fs, repo, 1, id);
    SeaftierConfig *cfg = seaftier_config_load_keyfile(kf, &err);
    assert_non_null(cfg);
    char *tier_dir = g_build_filename(dir, "tier", NULL);
    SeaftierTier *daemon_tier = seaftier_tier_open(cfg, tier_dir, &err);
    if (!daemon_tier)
        fail_msg("open: %s", err->message);
    GPtrArray *batch = seaftier_tier_deleted_batch(daemon_tier, SEAFTIER_TYPE_FS, 10, &err);
    assert_non_null(batch);
    assert_int_equal(batch->len, 1);
    assert_true(seaftier_s3_delete(s3, key, &err));
    assert_true(seaftier_tier_forget_deleted(daemon_tier, batch->pdata[0], &err));
    g_ptr_array_free(batch, TRUE);

    /* ... and then the GET's answer arrives. The reader gets its bytes, but
     * the tier must not claim an object S3 no longer has. */
    g_mutex_lock(&proxy.lock);
    proxy.released = TRUE;
    g_cond_broadcast(&proxy.cond);
    g_mutex_unlock(&proxy.lock);
    g_thread_join(reader);
    proxy_mode(MODE_PASS);
    assert_int_equal(job.rc, 0);
    assert_int_equal(job.len, 2000);
    assert_memory_equal(job.data, data, 2000);
    SeaftierTierEntry e;
    if (seaftier_tier_lookup(daemon_tier, SEAFTIER_TYPE_FS, repo, id, &e, NULL))
        fail_msg("the deleted object came back as %s", seaftier_state_name(e.state));

    seaftier_tier_close(daemon_tier);
    seaftier_config_free(cfg);
    obj_backend_tier_free(fs);
    seaftier_s3_free(s3);
    s3test_config_free(dcfg);
    g_key_file_free(kf);
    s3test_rm_rf(dir);
    g_free(job.data);
    g_free(tier_dir);
    g_free(data);
    g_free(key);
    g_free(fs_bucket);
    g_strfreev(pieces);
    g_free(joined);
    g_free(from);
    g_free(to);
    g_free(text);
    g_free(conf);
    g_free(dir);
}

/* ---- secrets out of core files ---- */

static void
test_daemon_not_dumpable(void **state)
{
    (void)state;
    char *dir = s3test_tmpdir("answers-daemon");
    S3TestVariant v = { .v4 = TRUE, .path_style = TRUE, .https = FALSE, .sse_c = FALSE };
    char *conf = s3test_write_seafile_conf(dir, "answersd", &v, NULL);
    char *log = g_build_filename(dir, "seaftierd.log", NULL);
    char *exe = g_build_filename(SEAFTIER_BUILDDIR, "daemon", "seaftierd", NULL);
    char *argv[] = { exe, "-f", "-c", dir, "--log-file", log, NULL };
    GPid pid;
    GError *err = NULL;
    if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &err))
        fail_msg("spawn: %s", err->message);
    char *limits_path = g_strdup_printf("/proc/%d/limits", (int)pid);
    gboolean no_core = FALSE;
    for (int i = 0; i < 100 && !no_core; i++) {
        char *limits = NULL;
        if (g_file_get_contents(limits_path, &limits, NULL, NULL)) {
            char *line = strstr(limits, "Max core file size");
            no_core = line && g_regex_match_simple("^Max core file size\\s+0\\s+0\\s",
                                                   line, 0, 0);
        }
        g_free(limits);
        if (!no_core)
            g_usleep(50 * 1000);
    }
    /* The log file it created holds bucket names: owner only. */
    struct stat st;
    gboolean log_ok = FALSE;
    for (int i = 0; i < 100 && !log_ok; i++) {
        log_ok = stat(log, &st) == 0;
        if (!log_ok)
            g_usleep(50 * 1000);
    }
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    assert_true(no_core);
    assert_true(log_ok);
    assert_int_equal(st.st_mode & 0777, 0600);
    s3test_rm_rf(dir);
    g_free(limits_path);
    g_free(exe);
    g_free(log);
    g_free(conf);
    g_free(dir);
}

/* Opens the backends in a child (the setting is per process) and reports
 * whether it is still dumpable. */
static int
backend_child_dumpable(const char *extra_tier_lines)
{
    char *dir = s3test_tmpdir("answers-backend");
    S3TestVariant v = { .v4 = TRUE, .path_style = TRUE, .https = FALSE, .sse_c = FALSE };
    char *conf = s3test_write_seafile_conf(dir, "answersb", &v, extra_tier_lines);
    pid_t pid = fork();
    if (pid == 0) {
        /* Start from a dumpable process (this one may have opened backends). */
        if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
            _exit(5);
        GKeyFile *kf = g_key_file_new();
        if (!g_key_file_load_from_file(kf, conf, G_KEY_FILE_NONE, NULL))
            _exit(3);
        BlockBackend *bb = block_backend_tier_new(dir, kf, NULL);
        if (!bb)
            _exit(4);
        _exit(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    s3test_rm_rf(dir);
    g_free(conf);
    g_free(dir);
    assert_true(WIFEXITED(status));
    assert_true(WEXITSTATUS(status) <= 1);
    return WEXITSTATUS(status);
}

static void
test_backend_not_dumpable_unless_asked(void **state)
{
    (void)state;
    assert_int_equal(backend_child_dumpable(NULL), 0);
    assert_int_equal(backend_child_dumpable("dumpable = true\n"), 1);
}

static void
test_log_file_private(void **state)
{
    (void)state;
    char *dir = s3test_tmpdir("answers-log");
    char *fresh = g_build_filename(dir, "fresh.log", NULL);
    char *old = g_build_filename(dir, "old.log", NULL);
    assert_true(g_file_set_contents(old, "earlier\n", -1, NULL));
    assert_int_equal(chmod(old, 0644), 0);
    GError *err = NULL;
    struct stat st;
    assert_true(seaftier_log_to_file(fresh, &err));
    seaftier_info("answers: a line");
    assert_int_equal(stat(fresh, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(seaftier_log_to_file(old, &err));
    assert_int_equal(stat(old, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(seaftier_log_to_file(NULL, &err));
    s3test_rm_rf(dir);
    g_free(fresh);
    g_free(old);
    g_free(dir);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_through_proxy),
        cmocka_unit_test(test_get_cut_without_length),
        cmocka_unit_test(test_complete_multipart_error_is_transient),
        cmocka_unit_test(test_copy_cut_short_is_transient),
        cmocka_unit_test(test_huge_answer_refused),
        cmocka_unit_test(test_dot_segments_sent_as_signed),
        cmocka_unit_test(test_fill_racing_delete_not_resurrected),
        cmocka_unit_test(test_daemon_not_dumpable),
        cmocka_unit_test(test_backend_not_dumpable_unless_asked),
        cmocka_unit_test(test_log_file_private),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
