/*
 * tests/fuzz/fuzz_ws — libFuzzer target for the gateway's WebSocket input
 * (actors/gateway/ws.c): the bytes a client sends after the upgrade go
 * through the frame reader as exec.c feeds them (frames until a partial
 * one, with reassembly and a small message limit), and the first line is
 * also read as handshake header values. Any result is fine; crashes, leaks,
 * out-of-bounds reads and sanitizer reports are not. ws.c is compiled in
 * (the fuzz build links protocol/ only; ws.c needs no more).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors/gateway/ws.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_handshake(const uint8_t *data, size_t size)
{
    char line[256], err[160], acc[GW_WS_ACCEPT_LEN + 1];
    size_t n = size < sizeof line - 1 ? size : sizeof line - 1;
    memcpy(line, data, n);
    line[n] = '\0';
    static const char *const ours[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};
    (void)gw_ws_pick_protocol(line, ours);
    (void)gw_ws_check_upgrade("GET", line, line, "13", line, err, sizeof err);
    gw_ws_accept(line, acc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    gw_ws_reader_t r = {.need_mask = (size & 1) == 0, .max_message = 4096};
    gw_ws_out_t o = {0};
    size_t off = 0;
    while (off < size) {
        gw_ws_event_t ev;
        ssize_t n = gw_ws_read(&r, buf + off, size - off, &ev);
        if (n <= 0) {
            if (n != GW_WS_PARTIAL)
                gw_ws_out_close(&o, gw_ws_close_code_for(n), "error");
            break;
        }
        off += (size_t)n;
        if (ev.type == GW_WS_EV_PING)
            gw_ws_out_frame(&o, GW_WS_PONG, NULL, 0, ev.data, ev.len);
        if (ev.type == GW_WS_EV_MESSAGE && ev.len) /* echo as exec.c would frame it */
            gw_ws_out_frame(&o, GW_WS_BINARY, ev.data, 1, ev.data + 1, ev.len - 1);
    }
    gw_ws_reader_clear(&r);
    gw_ws_out_clear(&o);
    s_handshake(data, size);
    free(buf);
    return 0;
}
