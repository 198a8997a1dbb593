/*
 * protocol/obj — accessors for Kubernetes-shaped jansson trees, keys, time.
 */
#include "protocol/obj.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Walks one path segment; segments of digits index arrays. */
/* One segment of a dotted path: a key of a map, or a decimal index of an
 * array; looked up in place (no copy of the segment, no strlen). */
static json_t *s_step(const json_t *cur, const char *seg, size_t len)
{
    if (json_is_array(cur)) {
        size_t i = 0;
        if (!len || len > 18)
            return NULL;
        for (size_t k = 0; k < len; k++) {
            if (seg[k] < '0' || seg[k] > '9')
                return NULL;
            i = i * 10 + (size_t)(seg[k] - '0');
        }
        return json_array_get(cur, i);
    }
    return json_object_getn(cur, seg, len);
}

json_t *proto_obj_get(const json_t *obj, const char *path)
{
    const json_t *cur = obj;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        cur = s_step(cur, p, len);
        p += len + (dot ? 1 : 0);
        if (!dot)
            break;
    }
    return (json_t *)cur;
}

const char *proto_obj_str(const json_t *obj, const char *path)
{
    return json_string_value(proto_obj_get(obj, path));
}

int64_t proto_obj_int(const json_t *obj, const char *path, int64_t def)
{
    json_t *v = proto_obj_get(obj, path);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

int proto_obj_set(json_t *obj, const char *path, json_t *val)
{
    json_t *cur = obj;
    const char *p = path;
    for (;;) { /* each segment used in place, as in proto_obj_get */
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= 256 || !json_is_object(cur)) {
            json_decref(val);
            return -EINVAL;
        }
        if (!dot)
            return json_object_setn_new(cur, p, len, val) ? -ENOMEM : 0;
        json_t *next = json_object_getn(cur, p, len);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_setn_new(cur, p, len, next);
        }
        cur = next;
        p = dot + 1;
    }
}

int proto_obj_set_str(json_t *obj, const char *path, const char *s)
{
    return proto_obj_set(obj, path, json_string(s));
}

int proto_obj_del(json_t *obj, const char *path)
{
    const char *dot = strrchr(path, '.');
    json_t *parent = obj;
    const char *leaf = path;
    if (dot) {
        char head[512];
        size_t len = (size_t)(dot - path);
        if (len >= sizeof head)
            return -EINVAL;
        memcpy(head, path, len);
        head[len] = 0;
        parent = proto_obj_get(obj, head);
        leaf = dot + 1;
    }
    if (json_is_object(parent))
        json_object_del(parent, leaf);
    return 0;
}

const char *proto_obj_name(const json_t *obj)
{
    return proto_obj_str(obj, "metadata.name");
}

const char *proto_obj_ns(const json_t *obj)
{
    return proto_obj_str(obj, "metadata.namespace");
}

const char *proto_obj_kind(const json_t *obj)
{
    return json_string_value(json_object_get(obj, "kind"));
}

const char *proto_obj_uid(const json_t *obj)
{
    return proto_obj_str(obj, "metadata.uid");
}

json_t *proto_obj_labels(const json_t *obj)
{
    json_t *l = proto_obj_get(obj, "metadata.labels");
    return json_is_object(l) ? l : NULL;
}

uint64_t proto_obj_rv(const json_t *obj)
{
    const char *rv = proto_obj_str(obj, "metadata.resourceVersion");
    return rv ? strtoull(rv, NULL, 10) : 0;
}

char *proto_key(const char *resource, const char *ns, const char *name)
{
    char *k = NULL;
    if (asprintf(&k, "%s/%s/%s", resource, ns ? ns : "", name ? name : "") < 0)
        abort();
    return k;
}

void proto_format_time(int64_t t, char buf[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void proto_now_rfc3339(char buf[32])
{
    proto_format_time((int64_t)time(NULL), buf);
}

int64_t proto_parse_time(const char *s)
{
    struct tm tm = {0};
    if (!s)
        return -1;
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -1;
    if (*end == '.')
        for (end++; *end >= '0' && *end <= '9'; end++)
            ;
    if (*end != 'Z' || end[1])
        return -1;
    return (int64_t)timegm(&tm);
}

int64_t proto_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t proto_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void proto_uuid(char buf[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* getrandom on a booted Linux never fails for 16 bytes; fall back anyway */
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)rand();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}
