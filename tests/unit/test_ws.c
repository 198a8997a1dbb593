/*
 * tests/unit/test_ws.c — the gateway's WebSocket framing (actors/gateway/
 * ws.c: encode/decode, masking, fragmentation, control frames, limits,
 * UTF-8, close codes, the handshake) and, live, its streaming pod
 * subresources: a broker, an apiserver, a gateway and a fake kubelet
 * (service kubelet-n1 answering `logs` and the stream ops) run as child processes,
 * and the tests speak HTTP and WebSocket to the gateway over loopback.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/test.h"

#include "actors/apiserver/apiserver.h"
#include "actors/gateway/gateway.h"
#include "actors/gateway/ws.h"
#include "broker/broker.h"
#include "protocol/b64.h"
#include "protocol/obj.h"
#include "protocol/status.h"
#include "runtime/actor.h"
#include "runtime/config.h"

/* ---- framing ------------------------------------------------------------------ */

TEST(parse_rfc_examples)
{
    gw_ws_frame_t f;
    uint8_t unmasked[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
    CHECK_EQ_INT(gw_ws_parse(unmasked, sizeof unmasked, false, 1024, &f), 7);
    CHECK(f.fin);
    CHECK_EQ_INT(f.opcode, GW_WS_TEXT);
    CHECK_EQ_INT(f.len, 5);
    CHECK(!memcmp(f.payload, "Hello", 5));
    /* the same frame masked, as a client sends it (RFC 6455 §5.7) */
    uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    CHECK_EQ_INT(gw_ws_parse(masked, sizeof masked, true, 1024, &f), 11);
    CHECK(f.masked);
    CHECK(!memcmp(f.payload, "Hello", 5));
    /* a server must refuse an unmasked client frame */
    CHECK_EQ_INT(gw_ws_parse(unmasked, sizeof unmasked, true, 1024, &f), GW_WS_EPROTO);
    uint8_t len16[4 + 256] = {0x82, 0x7e, 0x01, 0x00};
    CHECK_EQ_INT(gw_ws_parse(len16, sizeof len16, false, 1024, &f), 260);
    CHECK_EQ_INT(f.len, 256);
    CHECK_EQ_INT(f.opcode, GW_WS_BINARY);
}

TEST(parse_partial_at_every_prefix)
{
    uint8_t frame[GW_WS_MAX_HEADER + 70000];
    uint8_t mask[4] = {1, 2, 3, 4};
    size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        size_t h = gw_ws_header(frame, true, GW_WS_BINARY, n, mask);
        for (size_t i = 0; i < n; i++)
            frame[h + i] = (uint8_t)(i * 7);
        gw_ws_mask(frame + h, n, mask, 0);
        gw_ws_frame_t f;
        /* header lengths and sampled prefixes of the payload */
        for (size_t cut = 0; cut < h + n; cut += cut < h + 2 ? 1 : 997) {
            uint8_t copy[GW_WS_MAX_HEADER + 70000];
            memcpy(copy, frame, cut);
            CHECK_EQ_INT(gw_ws_parse(copy, cut, true, 1 << 20, &f), GW_WS_PARTIAL);
        }
        CHECK_EQ_INT(gw_ws_parse(frame, h + n, true, 1 << 20, &f), (ssize_t)(h + n));
        CHECK_EQ_INT(f.len, n);
        bool same = true;
        for (size_t i = 0; i < n; i++)
            same = same && f.payload[i] == (uint8_t)(i * 7);
        CHECK(same);
        CHECK_EQ_INT(h, (n < 126 ? 2 : n <= 0xffff ? 4 : 10) + 4);
    }
}

TEST(parse_refuses_bad_frames)
{
    gw_ws_frame_t f;
    uint8_t rsv[] = {0xc1, 0x00};       /* RSV1 without an extension */
    uint8_t opcode[] = {0x83, 0x00};    /* reserved opcode 3 */
    uint8_t frag_ping[] = {0x09, 0x00}; /* control frame without FIN */
    uint8_t long_ping[] = {0x89, 0x7e, 0x00, 0x7e};
    uint8_t short16[] = {0x82, 0x7e, 0x00, 0x10}; /* 16 in the 16-bit form */
    uint8_t short64[] = {0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    uint8_t top64[] = {0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1};
    uint8_t big[] = {0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 0};
    CHECK_EQ_INT(gw_ws_parse(rsv, 2, false, 100, &f), GW_WS_EPROTO);
    CHECK_EQ_INT(gw_ws_parse(opcode, 2, false, 100, &f), GW_WS_EPROTO);
    CHECK_EQ_INT(gw_ws_parse(frag_ping, 2, false, 100, &f), GW_WS_EPROTO);
    CHECK_EQ_INT(gw_ws_parse(long_ping, 4, false, 1000, &f), GW_WS_EPROTO);
    CHECK_EQ_INT(gw_ws_parse(short16, 4, false, 100, &f), GW_WS_EPROTO);
    CHECK_EQ_INT(gw_ws_parse(short64, 10, false, 1 << 20, &f), GW_WS_EPROTO);
    CHECK_EQ_INT(gw_ws_parse(top64, 10, false, UINT64_MAX, &f), GW_WS_EPROTO);
    CHECK_EQ_INT(gw_ws_parse(big, 10, false, 1 << 20, &f), GW_WS_ETOOBIG);
    CHECK_EQ_INT(gw_ws_close_code_for(GW_WS_ETOOBIG), 1009);
    CHECK_EQ_INT(gw_ws_close_code_for(GW_WS_EPROTO), 1002);
    CHECK_EQ_INT(gw_ws_close_code_for(GW_WS_EUTF8), 1007);
}

/* A client frame (masked) appended to buf at *len. */
static void s_client_frame(uint8_t *buf, size_t *len, bool fin, int op, const char *data, size_t n)
{
    uint8_t mask[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    size_t h = gw_ws_header(buf + *len, fin, op, n, mask);
    memcpy(buf + *len + h, data, n);
    gw_ws_mask(buf + *len + h, n, mask, 0);
    *len += h + n;
}

TEST(reader_reassembles_fragments_around_control_frames)
{
    uint8_t buf[256];
    size_t len = 0, off = 0;
    s_client_frame(buf, &len, false, GW_WS_BINARY, "\x01he", 3);
    s_client_frame(buf, &len, true, GW_WS_PING, "p", 1);
    s_client_frame(buf, &len, false, GW_WS_CONT, "ll", 2);
    s_client_frame(buf, &len, true, GW_WS_CONT, "o", 1);
    gw_ws_reader_t r = {.need_mask = true};
    gw_ws_event_t ev;
    int types[4];
    for (int i = 0; i < 4; i++) {
        ssize_t n = gw_ws_read(&r, buf + off, len - off, &ev);
        REQUIRE(n > 0);
        off += (size_t)n;
        types[i] = ev.type;
        if (ev.type == GW_WS_EV_PING)
            CHECK(ev.len == 1 && ev.data[0] == 'p');
    }
    CHECK_EQ_INT(off, len);
    CHECK_EQ_INT(types[0], GW_WS_EV_NONE);
    CHECK_EQ_INT(types[1], GW_WS_EV_PING);
    CHECK_EQ_INT(types[2], GW_WS_EV_NONE);
    CHECK_EQ_INT(types[3], GW_WS_EV_MESSAGE);
    CHECK_EQ_INT(ev.opcode, GW_WS_BINARY);
    CHECK_EQ_INT(ev.len, 6);
    CHECK(!memcmp(ev.data, "\x01hello", 6));
    CHECK_EQ_INT(gw_ws_read(&r, buf, 0, &ev), GW_WS_PARTIAL);
    gw_ws_reader_clear(&r);
}

TEST(reader_refuses_bad_sequences_and_limits)
{
    uint8_t buf[256];
    size_t len = 0;
    gw_ws_event_t ev;
    gw_ws_reader_t r = {.need_mask = true};
    s_client_frame(buf, &len, true, GW_WS_CONT, "x", 1); /* nothing to continue */
    CHECK_EQ_INT(gw_ws_read(&r, buf, len, &ev), GW_WS_EPROTO);
    gw_ws_reader_clear(&r);
    len = 0;
    s_client_frame(buf, &len, false, GW_WS_TEXT, "a", 1);
    size_t first = len;
    s_client_frame(buf, &len, true, GW_WS_BINARY, "b", 1); /* a new message inside one */
    CHECK_EQ_INT(gw_ws_read(&r, buf, len, &ev), (ssize_t)first);
    CHECK_EQ_INT(gw_ws_read(&r, buf + first, len - first, &ev), GW_WS_EPROTO);
    gw_ws_reader_clear(&r);
    /* the limit is on the whole message, not one frame */
    gw_ws_reader_t small = {.need_mask = true, .max_message = 4};
    len = 0;
    s_client_frame(buf, &len, false, GW_WS_BINARY, "abc", 3);
    first = len;
    s_client_frame(buf, &len, true, GW_WS_CONT, "de", 2);
    CHECK_EQ_INT(gw_ws_read(&small, buf, len, &ev), (ssize_t)first);
    CHECK_EQ_INT(gw_ws_read(&small, buf + first, len - first, &ev), GW_WS_ETOOBIG);
    gw_ws_reader_clear(&small);
    /* text must be UTF-8 */
    len = 0;
    s_client_frame(buf, &len, true, GW_WS_TEXT, "\xc0\x80", 2);
    CHECK_EQ_INT(gw_ws_read(&r, buf, len, &ev), GW_WS_EUTF8);
    gw_ws_reader_clear(&r);
    len = 0;
    s_client_frame(buf, &len, true, GW_WS_TEXT, "h\xc3\xa9!", 4);
    CHECK_EQ_INT(gw_ws_read(&r, buf, len, &ev), (ssize_t)len);
    CHECK_EQ_INT(ev.type, GW_WS_EV_MESSAGE);
    CHECK_EQ_INT(ev.opcode, GW_WS_TEXT);
    gw_ws_reader_clear(&r);
}

TEST(reader_close_frames)
{
    uint8_t buf[256];
    size_t len = 0;
    gw_ws_event_t ev;
    gw_ws_reader_t r = {.need_mask = true};
    s_client_frame(buf, &len, true, GW_WS_CLOSE, "", 0);
    CHECK_EQ_INT(gw_ws_read(&r, buf, len, &ev), (ssize_t)len);
    CHECK_EQ_INT(ev.type, GW_WS_EV_CLOSE);
    CHECK_EQ_INT(ev.close_code, 1005);
    len = 0;
    s_client_frame(buf, &len, true, GW_WS_CLOSE, "\003\350bye", 5); /* 1000 */
    CHECK_EQ_INT(gw_ws_read(&r, buf, len, &ev), (ssize_t)len);
    CHECK_EQ_INT(ev.close_code, 1000);
    CHECK(ev.len == 3 && !memcmp(ev.data, "bye", 3));
    const char *bad[] = {"\x03", "\x03\xed", "\x03\xee", "\x00\x10", "\x13\x88"};
    size_t blen[] = {1, 2, 2, 2, 2}; /* 1 byte; 1005; 1006; 16; 5000 */
    for (size_t i = 0; i < 5; i++) {
        len = 0;
        s_client_frame(buf, &len, true, GW_WS_CLOSE, bad[i], blen[i]);
        CHECK_EQ_INT(gw_ws_read(&r, buf, len, &ev), GW_WS_EPROTO);
    }
    len = 0;
    s_client_frame(buf, &len, true, GW_WS_CLOSE, "\x03\xe8\xff", 3);
    CHECK_EQ_INT(gw_ws_read(&r, buf, len, &ev), GW_WS_EUTF8);
    CHECK(gw_ws_close_code_ok(1000) && gw_ws_close_code_ok(4999) && gw_ws_close_code_ok(1011));
    CHECK(!gw_ws_close_code_ok(999) && !gw_ws_close_code_ok(1004) && !gw_ws_close_code_ok(2999));
    gw_ws_reader_clear(&r);
}

TEST(utf8_validation)
{
    CHECK(gw_ws_utf8_ok((const uint8_t *)"", 0));
    CHECK(gw_ws_utf8_ok((const uint8_t *)"plain", 5));
    CHECK(gw_ws_utf8_ok((const uint8_t *)"\xe2\x82\xac\xf0\x9f\x98\x80", 7)); /* € 😀 */
    CHECK(gw_ws_utf8_ok((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));             /* U+10FFFF */
    CHECK(!gw_ws_utf8_ok((const uint8_t *)"\xc0\xaf", 2));                    /* overlong */
    CHECK(!gw_ws_utf8_ok((const uint8_t *)"\xe0\x80\xaf", 3));                /* overlong */
    CHECK(!gw_ws_utf8_ok((const uint8_t *)"\xed\xa0\x80", 3));                /* surrogate */
    CHECK(!gw_ws_utf8_ok((const uint8_t *)"\xf4\x90\x80\x80", 4));            /* > U+10FFFF */
    CHECK(!gw_ws_utf8_ok((const uint8_t *)"\xe2\x82", 2));                    /* cut short */
    CHECK(!gw_ws_utf8_ok((const uint8_t *)"\x80", 1));
}

TEST(output_frames)
{
    gw_ws_out_t o = {0};
    uint8_t ch = 1;
    gw_ws_out_frame(&o, GW_WS_BINARY, &ch, 1, "hi", 2);
    gw_ws_out_close(&o, 1000, "");
    uint8_t want[] = {0x82, 0x03, 0x01, 'h', 'i', 0x88, 0x02, 0x03, 0xe8};
    CHECK_EQ_INT(o.len, sizeof want);
    CHECK(!memcmp(o.data, want, sizeof want));
    /* a long frame decodes back to what went in */
    static char big[100000];
    memset(big, 'x', sizeof big);
    o.off = o.len; /* all written */
    gw_ws_out_frame(&o, GW_WS_BINARY, &ch, 1, big, sizeof big);
    gw_ws_frame_t f;
    CHECK_EQ_INT(gw_ws_parse(o.data, o.len, false, 1 << 20, &f), (ssize_t)o.len);
    CHECK_EQ_INT(f.len, sizeof big + 1);
    CHECK(f.payload[0] == 1 && f.payload[1] == 'x' && f.payload[sizeof big] == 'x');
    gw_ws_out_clear(&o);
}

TEST(handshake)
{
    char acc[GW_WS_ACCEPT_LEN + 1], err[160] = "";
    gw_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", acc); /* RFC 6455 §1.3 */
    CHECK_EQ_STR(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    CHECK_EQ_INT(gw_ws_check_upgrade("GET", "websocket", "Upgrade", "13", key, err, sizeof err), 1);
    CHECK_EQ_INT(
        gw_ws_check_upgrade("GET", "WebSocket", "keep-alive, Upgrade", "13", key, err, sizeof err),
        1);
    CHECK_EQ_INT(gw_ws_check_upgrade("POST", NULL, NULL, NULL, NULL, err, sizeof err), 0);
    CHECK_EQ_INT(gw_ws_check_upgrade("POST", "SPDY/3.1", "Upgrade", NULL, NULL, err, sizeof err),
                 0);
    CHECK_EQ_INT(gw_ws_check_upgrade("POST", "websocket", "Upgrade", "13", key, err, sizeof err),
                 PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "GET");
    CHECK_EQ_INT(gw_ws_check_upgrade("GET", "websocket", "Upgrade", "8", key, err, sizeof err),
                 PROTO_EBADREQUEST);
    CHECK_CONTAINS(err, "Version");
    CHECK_EQ_INT(gw_ws_check_upgrade("GET", "websocket", "Upgrade", "13", "short", err, sizeof err),
                 PROTO_EBADREQUEST);
    CHECK_EQ_INT(gw_ws_check_upgrade("GET", "websocket", "close", "13", key, err, sizeof err),
                 PROTO_EBADREQUEST);
    static const char *const ours[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};
    CHECK_EQ_STR(gw_ws_pick_protocol("v4.channel.k8s.io, v5.channel.k8s.io", ours),
                 "v5.channel.k8s.io");
    CHECK_EQ_STR(gw_ws_pick_protocol("v4.channel.k8s.io", ours), "v4.channel.k8s.io");
    CHECK(!gw_ws_pick_protocol("channel.k8s.io, v5.channel.k8s.io.x", ours));
    CHECK(!gw_ws_pick_protocol(NULL, ours));
}

TEST(subresource_helpers)
{
    CHECK(gw_sub_handles("pods", "log") && gw_sub_handles("pods", "exec"));
    CHECK(gw_sub_handles("pods", "portforward"));
    CHECK(!gw_sub_handles("pods", "status") && !gw_sub_handles("services", "log"));
    CHECK(gw_sub_truthy("true") && gw_sub_truthy("1") && gw_sub_truthy("True"));
    CHECK(!gw_sub_truthy("false") && !gw_sub_truthy("yes") && !gw_sub_truthy(NULL));
    json_t *pod = json_loads("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
                             "[{\"name\":\"a\"},{\"name\":\"b\"}],\"initContainers\":"
                             "[{\"name\":\"i\"}]}}",
                             0, NULL);
    json_t *err = NULL;
    CHECK_EQ_STR(gw_sub_container(pod, "b", &err), "b");
    CHECK_EQ_STR(gw_sub_container(pod, "i", &err), "i");
    CHECK(!gw_sub_container(pod, NULL, &err));
    CHECK_EQ_STR(json_string_value(json_object_get(err, "message")),
                 "a container name must be specified for pod p, choose one of: [a b] or one of "
                 "the init containers: [i]");
    CHECK_EQ_INT(json_integer_value(json_object_get(err, "code")), 400);
    json_decref(err);
    CHECK(!gw_sub_container(pod, "zz", &err));
    CHECK_EQ_STR(json_string_value(json_object_get(err, "message")),
                 "container zz is not valid for pod p");
    json_decref(err);
    json_array_remove(proto_obj_get(pod, "spec.containers"), 1);
    CHECK_EQ_STR(gw_sub_container(pod, "", &err), "a");
    json_decref(pod);
}

/* ---- live: broker, apiserver, gateway and a fake kubelet ------------------------- */

static rt_config_t g_cfg;
static pid_t g_pids[4]; /* broker, apiserver, kubelet, gateway */
static int g_port;

/* The fake kubelet's `logs`: "line1\n" then "line2\n" while running, then
 * the end. */
static json_t *s_fake_logs(const json_t *b, int *code)
{
    const char *name = json_string_value(json_object_get(b, "name"));
    json_int_t off = json_is_integer(json_object_get(b, "offset"))
                         ? json_integer_value(json_object_get(b, "offset"))
                         : -1;
    *code = 200;
    if (name && !strcmp(name, "forever")) { /* counts its polls in ./polls */
        static int polls;
        FILE *f = fopen("polls", "w");
        if (f) {
            fprintf(f, "%d\n", ++polls);
            fclose(f);
        }
        return json_pack("{s:s, s:I, s:b, s:i}", "log", off < 0 ? "tick\n" : "", "offset",
                         (json_int_t)5, "running", 1, "restartCount", 0);
    }
    if (name && !strcmp(name, "gone")) {
        *code = 404;
        return proto_status_notfound("pods", NULL, name);
    }
    const char *text = off < 0 ? "line1\n" : off == 6 ? "line2\n" : "";
    json_int_t next = off < 0 ? 6 : off == 6 ? 12 : off;
    return json_pack("{s:s, s:I, s:b, s:i}", "log", text, "offset", next, "running", off < 12,
                     "restartCount", 0);
}

/* The fake kubelet's streams: a command's output is "hi\n" on stdout and
 * "oops\n" on stderr, and it exits with the code its last argument names;
 * `cat` echoes its input and ends when the input is closed; `slow` answers
 * its first read after 500 ms (so that a ping can cross it); container
 * "down" is not running. */
typedef struct s_fstream {
    char id[16], last[64];
    char data[4096];
    bool closed, done;
    rt_req_t *rd;
} s_fstream_t;
static s_fstream_t g_streams[16];
static int g_nstreams;

static s_fstream_t *s_fstream(const json_t *b)
{
    const char *id = json_string_value(json_object_get(b, "stream"));
    for (int i = 0; id && i < g_nstreams; i++)
        if (!strcmp(g_streams[i].id, id))
            return &g_streams[i];
    return NULL;
}

static json_t *s_b64_member(json_t *o, const char *key, const char *text)
{
    char *enc = proto_b64_encode(text, strlen(text));
    json_object_set_new(o, key, json_string(enc));
    free(enc);
    return o;
}

/* The answer to a read; NULL while it must wait. */
static json_t *s_fake_read(s_fstream_t *f)
{
    if (!strcmp(f->last, "cat")) {
        if (!f->data[0] && !f->closed)
            return NULL;
        json_t *r = s_b64_member(json_object(), "stdout", f->data);
        f->data[0] = '\0';
        if (f->closed)
            json_object_set_new(r, "end", json_true());
        return r;
    }
    json_t *r = json_pack("{s:b, s:i}", "end", 1, "exitCode",
                          !strcmp(f->last, "slow") ? 0 : atoi(f->last));
    s_b64_member(r, "stdout", !strcmp(f->last, "slow") ? "late\n" : "hi\n");
    if (strcmp(f->last, "slow"))
        s_b64_member(r, "stderr", "oops\n");
    return r;
}

static void s_on_slow(rt_actor_t *a, void *arg)
{
    s_fstream_t *f = arg;
    json_t *body = s_fake_read(f);
    rt_reply(a, &f->rd, 200, body);
    json_decref(body);
}

static json_t *s_fake_stream(rt_actor_t *a, rt_req_t **req, int *code)
{
    const json_t *b = (*req)->env.body;
    const char *op = (*req)->env.op;
    *code = 200;
    if (!strcmp(op, "stream.open")) {
        const json_t *cmd = json_object_get(b, "command");
        const char *last = json_string_value(json_array_get(cmd, json_array_size(cmd) - 1));
        const char *ctr = json_string_value(json_object_get(b, "container"));
        if (ctr && !strcmp(ctr, "down")) {
            *code = 409;
            return proto_status_new(PROTO_ECONFLICT, "container down is not running", NULL);
        }
        if (g_nstreams == 16)
            return NULL;
        s_fstream_t *f = &g_streams[g_nstreams];
        snprintf(f->id, sizeof f->id, "s%d", g_nstreams++);
        snprintf(f->last, sizeof f->last, "%s", last ? last : "");
        return json_pack("{s:s}", "stream", f->id);
    }
    s_fstream_t *f = s_fstream(b);
    if (!f) {
        *code = 404;
        return proto_status_new(PROTO_ENOTFOUND, "no such stream on this kubelet", NULL);
    }
    if (!strcmp(op, "stream.close") || json_object_get(b, "data") || json_object_get(b, "close")) {
        const json_t *d = json_object_get(b, "data");
        size_t n = 0;
        char *bytes = d ? proto_b64_decode(json_string_value(d), json_string_length(d), &n) : NULL;
        if (bytes && strlen(f->data) + n < sizeof f->data)
            strncat(f->data, bytes, n);
        free(bytes);
        f->closed |= json_is_true(json_object_get(b, "close")) || !strcmp(op, "stream.close");
        if (f->rd && (f->data[0] || f->closed)) {
            json_t *r = s_fake_read(f);
            rt_reply(a, &f->rd, 200, r);
            json_decref(r);
        }
        return json_object();
    }
    json_t *r = NULL;
    if (!strcmp(f->last, "slow") && !f->done) {
        f->done = true;
        f->rd = *req;
        *req = NULL;
        rt_timer_add(a, 500, false, s_on_slow, f);
    } else if (!(r = s_fake_read(f))) {
        f->rd = *req; /* cat: answered by the next write */
        *req = NULL;
    }
    return r;
}

static void s_on_kubelet(rt_actor_t *a, rt_req_t *req, void *arg)
{
    int code = 400;
    json_t *body;
    (void)arg;
    if (!strcmp(req->env.op, "logs"))
        body = s_fake_logs(req->env.body, &code);
    else if (!strncmp(req->env.op, "stream.", 7))
        body = s_fake_stream(a, &req, &code);
    else
        body = proto_status_new(PROTO_EBADREQUEST, "unknown operation", NULL);
    if (req)
        rt_reply(a, &req, code, body);
    json_decref(body);
}

static int s_kubelet_main(void)
{
    rt_actor_t *a = NULL;
    char err[256];
    if (rt_actor_open(&a, "kubelet-n1", &g_cfg, err, sizeof err) < 0)
        return 1;
    rt_serve(a, "kubelet-n1", s_on_kubelet, NULL);
    rt_run(a);
    rt_actor_destroy(&a);
    return 0;
}

static pid_t s_fork(int which)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (which == 0)
        _exit(broker_run(&g_cfg) ? 1 : 0);
    if (which == 1) {
        char *argv[] = {"apiserver", "--unsafe-no-fsync", NULL};
        _exit(apisrv_main(2, argv) ? 1 : 0);
    }
    if (which == 2)
        _exit(s_kubelet_main());
    char port[16];
    snprintf(port, sizeof port, "%d", g_port);
    char *argv[] = {"gateway", "--http-port", port, NULL};
    _exit(gw_main(3, argv) ? 1 : 0);
}

static int s_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads from fd until the connection ends or ms pass; NUL-terminated. */
static size_t s_read_all(int fd, char *buf, size_t cap, int ms)
{
    size_t len = 0;
    int64_t deadline = proto_mono_ms() + ms;
    for (;;) {
        int left = (int)(deadline - proto_mono_ms());
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0 || len + 1 >= cap)
            break;
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = 0;
    return len;
}

/* One request (Connection: close); the status code, the whole response in buf. */
static int s_http(const char *method, const char *path, const char *hdrs, const char *body,
                  char *buf, size_t cap)
{
    int fd = s_connect();
    if (fd < 0)
        return -1;
    char head[2048];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, hdrs ? hdrs : "", blen, body ? body : "");
    int code = 0;
    if (write(fd, head, (size_t)n) == n) {
        s_read_all(fd, buf, cap, 10000);
        sscanf(buf, "HTTP/1.%*d %d", &code);
    }
    close(fd);
    return code;
}

static bool s_gw_ready(pid_t gw)
{
    char buf[4096];
    int64_t deadline = proto_mono_ms() + 15000;
    while (proto_mono_ms() < deadline) {
        if (waitpid(gw, NULL, WNOHANG) == gw)
            return false;
        if (s_http("GET", "/api/v1/namespaces/default", NULL, NULL, buf, sizeof buf) == 200) {
            usleep(100 * 1000);
            return waitpid(gw, NULL, WNOHANG) != gw;
        }
        usleep(50 * 1000);
    }
    return false;
}

static void s_pod(const char *name, const char *node, const char *ctrs)
{
    char body[1024], buf[8192];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{%s%s%s\"containers\":[%s]}}",
             name, node ? "\"nodeName\":\"" : "", node ? node : "", node ? "\"," : "", ctrs);
    int code = s_http("POST", "/api/v1/namespaces/default/pods",
                      "Content-Type: application/json\r\n", body, buf, sizeof buf);
    if (code != 201)
        fprintf(stderr, "create pod %s: %s\n", name, buf);
    REQUIRE(code == 201);
}

static void s_up(void)
{
    char home[512], err[256];
    REQUIRE(getcwd(home, sizeof home));
    setenv("ZKUBE_HOME", home, 1);
    unsetenv("ZKUBE_BROKER");
    REQUIRE(rt_config_load(&g_cfg, err, sizeof err) == 0);
    REQUIRE(rt_config_mkdirs(&g_cfg) == 0);
    g_pids[0] = s_fork(0);
    g_pids[1] = s_fork(1);
    g_pids[2] = s_fork(2);
    bool up = false;
    for (int try = 0; try < 5 && !up; try++) {
        g_port = 20000 + (int)((getpid() * 3 + try * 7919) % 10000);
        g_pids[3] = s_fork(3);
        up = s_gw_ready(g_pids[3]);
    }
    REQUIRE(up);
    const char *one = "{\"name\":\"c\",\"image\":\"busybox\"}";
    s_pod("web", "n1", one);
    s_pod("gone", "n1", one);
    s_pod("pending", NULL, one);
    s_pod("two", "n1",
          "{\"name\":\"a\",\"image\":\"busybox\"},{\"name\":\"down\",\"image\":\"busybox\"}");
}

static void s_down(void)
{
    for (int i = 3; i >= 0; i--) {
        if (g_pids[i] > 0) {
            kill(g_pids[i], SIGTERM);
            waitpid(g_pids[i], NULL, 0);
        }
        g_pids[i] = 0;
    }
}

static const char *s_body(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : "";
}

TEST(live_logs)
{
    static char buf[65536];
    s_up();
    const char *base = "/api/v1/namespaces/default/pods/";
    char path[256];
    snprintf(path, sizeof path, "%sweb/log", base);
    CHECK_EQ_INT(s_http("GET", path, NULL, NULL, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "text/plain");
    CHECK_EQ_STR(s_body(buf), "line1\n");
    /* follow: chunked, both lines, ends when the container stops */
    snprintf(path, sizeof path, "%sweb/log?follow=true&container=c", base);
    CHECK_EQ_INT(s_http("GET", path, NULL, NULL, buf, sizeof buf), 200);
    CHECK_CONTAINS(buf, "chunked");
    CHECK_CONTAINS(s_body(buf), "line1\n");
    CHECK_CONTAINS(s_body(buf), "line2\n");
    CHECK_CONTAINS(s_body(buf), "\r\n0\r\n");
    snprintf(path, sizeof path, "%snope/log", base);
    CHECK_EQ_INT(s_http("GET", path, NULL, NULL, buf, sizeof buf), 404);
    CHECK_CONTAINS(buf, "pods \\\"nope\\\" not found");
    snprintf(path, sizeof path, "%sgone/log", base); /* the kubelet's own 404 */
    CHECK_EQ_INT(s_http("GET", path, NULL, NULL, buf, sizeof buf), 404);
    snprintf(path, sizeof path, "%stwo/log", base);
    CHECK_EQ_INT(s_http("GET", path, NULL, NULL, buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "a container name must be specified for pod two, choose one of: [a down]");
    snprintf(path, sizeof path, "%spending/log", base);
    CHECK_EQ_INT(s_http("GET", path, NULL, NULL, buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "container \\\"c\\\" in pod \\\"pending\\\" is waiting to start: "
                        "ContainerCreating");
    snprintf(path, sizeof path, "%sweb/log?tailLines=-1", base);
    CHECK_EQ_INT(s_http("GET", path, NULL, NULL, buf, sizeof buf), 422);
    CHECK_CONTAINS(buf, "tailLines");
    snprintf(path, sizeof path, "%sweb/log?sinceSeconds=x", base);
    CHECK_EQ_INT(s_http("GET", path, NULL, NULL, buf, sizeof buf), 422);
    snprintf(path, sizeof path, "%sweb/log", base);
    CHECK_EQ_INT(s_http("POST", path, NULL, "{}", buf, sizeof buf), 405);
    snprintf(path, sizeof path, "%sweb/portforward", base);
    CHECK_EQ_INT(s_http("GET", path, NULL, NULL, buf, sizeof buf), 400);
    CHECK_CONTAINS(buf, "Upgrade request required");
    s_down();
}

static int s_polls(void)
{
    int n = -1;
    FILE *f = fopen("polls", "r");
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        fclose(f);
    }
    return n;
}

TEST(live_logs_follow_stops_when_the_client_goes)
{
    static char buf[65536];
    s_up();
    s_pod("forever", "n1", "{\"name\":\"c\",\"image\":\"busybox\"}");
    int fd = s_connect();
    REQUIRE(fd >= 0);
    const char *req = "GET /api/v1/namespaces/default/pods/forever/log?follow=1 HTTP/1.1\r\n"
                      "Host: x\r\n\r\n";
    CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    s_read_all(fd, buf, sizeof buf, 1500); /* the stream stays open */
    CHECK_CONTAINS(buf, "tick");
    int during = s_polls();
    CHECK(during >= 3); /* polled every 200 ms */
    close(fd);
    int64_t deadline = proto_mono_ms() + 5000;
    int before = s_polls(), after = -2;
    while (proto_mono_ms() < deadline) { /* polls stop once the gateway sees the close */
        usleep(600 * 1000);
        after = s_polls();
        if (after == before)
            break;
        before = after;
    }
    CHECK_EQ_INT(after, before);
    CHECK_EQ_INT(
        s_http("GET", "/api/v1/namespaces/default/pods/web/log", NULL, NULL, buf, sizeof buf), 200);
    CHECK_EQ_STR(s_body(buf), "line1\n");
    s_down();
}

/* Opens a WebSocket on path; the fd after the 101, or -1 (buf holds the
 * answer). */
static int s_ws_open(const char *path, const char *protocols, char *buf, size_t cap)
{
    int fd = s_connect();
    if (fd < 0)
        return -1;
    char head[2048];
    int n = snprintf(head, sizeof head,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Protocol: %s\r\n\r\n",
                     path, protocols);
    size_t len = 0;
    buf[0] = 0;
    if (write(fd, head, (size_t)n) != n)
        goto fail;
    int64_t deadline = proto_mono_ms() + 10000;
    while (!strstr(buf, "\r\n\r\n") && proto_mono_ms() < deadline && len + 1 < cap) {
        /* one byte at a time: frames may follow the head at once */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        if (read(fd, buf + len, 1) != 1)
            break;
        buf[++len] = 0;
    }
    if (strstr(buf, " 101 "))
        return fd;
fail: /* the Status follows the head at once; the connection stays open */
    s_read_all(fd, buf + len, cap - len, 300);
    close(fd);
    return -1;
}

/* Reads server frames until a close frame; channel data into out[ch]. */
static unsigned s_ws_collect(int fd, char out[4][4096], bool *got_pong)
{
    static uint8_t in[1 << 16];
    size_t len = 0;
    unsigned close_code = 0;
    int64_t deadline = proto_mono_ms() + 10000;
    while (!close_code && proto_mono_ms() < deadline) {
        gw_ws_frame_t f;
        ssize_t n = gw_ws_parse(in, len, false, sizeof in, &f);
        if (n == GW_WS_PARTIAL) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, 200) <= 0)
                continue;
            ssize_t r = read(fd, in + len, sizeof in - len);
            if (r <= 0)
                break;
            len += (size_t)r;
            continue;
        }
        if (n < 0)
            break;
        if (f.opcode == GW_WS_BINARY && f.len >= 1 && f.payload[0] < 4)
            strncat(out[f.payload[0]], (const char *)f.payload + 1,
                    (size_t)f.len - 1 < 4000 ? (size_t)f.len - 1 : 4000);
        if (f.opcode == GW_WS_PONG)
            *got_pong = true;
        if (f.opcode == GW_WS_CLOSE)
            close_code = f.len >= 2 ? (unsigned)f.payload[0] << 8 | f.payload[1] : 1005;
        memmove(in, in + n, len - (size_t)n);
        len -= (size_t)n;
    }
    return close_code;
}

TEST(live_exec_websocket)
{
    static char buf[65536];
    static char out[4][4096];
    s_up();
    const char *path = "/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&"
                       "command=echo%20hi%3B%20exit%203&command=3&container=c&stdout=true&"
                       "stderr=true";
    int fd = s_ws_open(path, "v5.channel.k8s.io, v4.channel.k8s.io", buf, sizeof buf);
    if (fd < 0)
        fprintf(stderr, "upgrade refused: %s\n", buf);
    REQUIRE(fd >= 0);
    CHECK_CONTAINS(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_CONTAINS(buf, "Sec-WebSocket-Protocol: v5.channel.k8s.io");
    bool pong = false;
    CHECK_EQ_INT(s_ws_collect(fd, out, &pong), 1000);
    CHECK_EQ_STR(out[1], "hi\n");
    CHECK_EQ_STR(out[2], "oops\n");
    json_t *st = json_loads(out[3], 0, NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(st, "status")), "Failure");
    CHECK_EQ_STR(json_string_value(json_object_get(st, "reason")), "NonZeroExitCode");
    CHECK_EQ_STR(proto_obj_str(st, "details.causes.0.reason"), "ExitCode");
    CHECK_EQ_STR(proto_obj_str(st, "details.causes.0.message"), "3");
    json_decref(st);
    close(fd);
    /* exit 0, v4 only, stderr not asked for */
    memset(out, 0, sizeof out);
    path = "/api/v1/namespaces/default/pods/web/exec?command=true&command=0&stdout=1";
    fd = s_ws_open(path, "v4.channel.k8s.io", buf, sizeof buf);
    REQUIRE(fd >= 0);
    CHECK_CONTAINS(buf, "Sec-WebSocket-Protocol: v4.channel.k8s.io");
    CHECK_EQ_INT(s_ws_collect(fd, out, &pong), 1000);
    CHECK_EQ_STR(out[1], "hi\n");
    CHECK_EQ_STR(out[2], "");
    CHECK_CONTAINS(out[3], "\"status\":\"Success\"");
    close(fd);
    /* a ping while the command runs gets its pong */
    memset(out, 0, sizeof out);
    path = "/api/v1/namespaces/default/pods/web/exec?command=slow&stdout=1";
    fd = s_ws_open(path, "v5.channel.k8s.io", buf, sizeof buf);
    REQUIRE(fd >= 0);
    uint8_t ping[16];
    size_t pl = 0;
    s_client_frame(ping, &pl, true, GW_WS_PING, "hb", 2);
    CHECK(write(fd, ping, pl) == (ssize_t)pl);
    pong = false;
    CHECK_EQ_INT(s_ws_collect(fd, out, &pong), 1000);
    CHECK(pong);
    CHECK_EQ_STR(out[1], "late\n");
    close(fd);
    /* stdin on channel 0, then v5's CLOSE signal: cat echoes and ends */
    memset(out, 0, sizeof out);
    path = "/api/v1/namespaces/default/pods/web/exec?command=cat&stdin=1&stdout=1&tty=1";
    fd = s_ws_open(path, "v5.channel.k8s.io", buf, sizeof buf);
    REQUIRE(fd >= 0);
    uint8_t frames[64];
    size_t fl = 0;
    s_client_frame(frames, &fl, true, GW_WS_BINARY, "\x00" "abc", 4);
    s_client_frame(frames, &fl, true, GW_WS_BINARY, "\xff\x00", 2);
    CHECK(write(fd, frames, fl) == (ssize_t)fl);
    CHECK_EQ_INT(s_ws_collect(fd, out, &pong), 1000);
    CHECK_EQ_STR(out[1], "abc");
    CHECK_CONTAINS(out[3], "\"status\":\"Success\"");
    close(fd);
    /* the kubelet refuses: the Status goes out on channel 3 */
    memset(out, 0, sizeof out);
    path = "/api/v1/namespaces/default/pods/two/exec?command=ls&container=down&stdout=1";
    fd = s_ws_open(path, "v5.channel.k8s.io", buf, sizeof buf);
    REQUIRE(fd >= 0);
    CHECK_EQ_INT(s_ws_collect(fd, out, &pong), 1000);
    CHECK_CONTAINS(out[3], "container down is not running");
    close(fd);
    s_down();
}

TEST(live_exec_refusals)
{
    static char buf[65536];
    s_up();
    const char *base = "/api/v1/namespaces/default/pods/";
    char path[512];
    struct {
        const char *pod, *query, *protocols;
        int code;
        const char *msg;
    } cases[] = {
        {"web", "command=ls&stdout=1", NULL, 400, "WebSocket only"},
        {"web", "stdout=1", "v5.channel.k8s.io", 400, "at least one command"},
        {"web", "command=ls", "v5.channel.k8s.io", 400, "at least one of stdin, stdout, stderr"},
        {"nope", "command=ls&stdout=1", "v5.channel.k8s.io", 404, "not found"},
        {"pending", "command=ls&stdout=1", "v5.channel.k8s.io", 400, "does not have a host"},
        {"web", "command=ls&container=x&stdout=1", "v5.channel.k8s.io", 400, "not valid"},
        {"web", "command=ls&stdout=1", "v3.channel.k8s.io", 400, "subprotocol"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s%s/exec?%s", base, cases[i].pod, cases[i].query);
        int code;
        if (cases[i].protocols) {
            int fd = s_ws_open(path, cases[i].protocols, buf, sizeof buf);
            CHECK(fd < 0);
            if (fd >= 0)
                close(fd);
            code = 0;
            sscanf(buf, "HTTP/1.%*d %d", &code);
        } else {
            code = s_http("POST", path, "Upgrade: SPDY/3.1\r\n", NULL, buf, sizeof buf);
        }
        if (code != cases[i].code || !strstr(buf, cases[i].msg))
            fprintf(stderr, "  case %zu: %s\n", i, buf);
        CHECK_EQ_INT(code, cases[i].code);
        CHECK_CONTAINS(buf, cases[i].msg);
    }
    s_down();
}

TEST(live_gateway_stops_with_streams_open)
{
    static char buf[65536];
    s_up();
    s_pod("forever", "n1", "{\"name\":\"c\",\"image\":\"busybox\"}");
    int follow = s_connect();
    REQUIRE(follow >= 0);
    const char *req = "GET /api/v1/namespaces/default/pods/forever/log?follow=1 HTTP/1.1\r\n"
                      "Host: x\r\n\r\n";
    CHECK(write(follow, req, strlen(req)) == (ssize_t)strlen(req));
    s_read_all(follow, buf, sizeof buf, 800);
    CHECK_CONTAINS(buf, "tick");
    /* an exec session upgraded and waiting for its command */
    int ws = s_ws_open("/api/v1/namespaces/default/pods/web/exec?command=slow&stdout=1",
                       "v5.channel.k8s.io", buf, sizeof buf);
    CHECK(ws >= 0);
    /* MHD_stop_daemon must find no suspended connection: a clean exit */
    kill(g_pids[3], SIGTERM);
    int st = 0;
    CHECK_EQ_INT(waitpid(g_pids[3], &st, 0), g_pids[3]);
    g_pids[3] = 0;
    CHECK(WIFEXITED(st));
    CHECK_EQ_INT(WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), 0);
    /* the follow ends (a chunked end or a closed connection) */
    s_read_all(follow, buf, sizeof buf, 3000);
    close(follow);
    if (ws >= 0)
        close(ws);
    s_down();
}
