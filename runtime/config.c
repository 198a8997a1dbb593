/*
 * runtime/config — finds a cluster's home and its broker endpoints. Every
 * actor and client calls rt_config_load first; the broker derives its four
 * sockets from the same base endpoint, so both ends agree by construction.
 */
#include "runtime/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_IPC_PATH_MAX 107 /* sun_path is 108 bytes with its NUL */
#define S_LINE_MAX 4096

static int s_set_home(rt_config_t *cfg, char *err, size_t errlen)
{
    const char *h = getenv("ZKUBE_HOME");
    char buf[PATH_MAX];
    if (h && *h) {
        if (snprintf(buf, sizeof buf, "%s", h) >= (int)sizeof buf)
            goto too_long;
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            snprintf(err, errlen, "neither ZKUBE_HOME nor HOME is set");
            return -EINVAL;
        }
        if (snprintf(buf, sizeof buf, "%s/.zkube", home) >= (int)sizeof buf)
            goto too_long;
    }
    if (buf[0] == '/') {
        memcpy(cfg->home, buf, sizeof buf);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return -errno;
        if (snprintf(cfg->home, sizeof cfg->home, "%s/%s", cwd, buf) >= (int)sizeof cfg->home)
            goto too_long;
    }
    size_t n = strlen(cfg->home);
    while (n > 1 && cfg->home[n - 1] == '/')
        cfg->home[--n] = '\0';
    return 0;
too_long:
    snprintf(err, errlen, "ZKUBE_HOME path too long");
    return -ENAMETOOLONG;
}

static char *s_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* One `key=value` line; unknown keys belong to other modules and are kept
 * out of this struct, not refused. */
static int s_config_line(rt_config_t *cfg, char *line, int lineno, char *err, size_t errlen)
{
    char *s = s_trim(line);
    if (!*s || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "%s/config:%d: expected key=value", cfg->home, lineno);
        return -EINVAL;
    }
    *eq = '\0';
    char *key = s_trim(s), *val = s_trim(eq + 1);
    char *dst = NULL;
    size_t cap = 0;
    if (!strcmp(key, "broker"))
        dst = cfg->broker, cap = sizeof cfg->broker;
    else if (!strcmp(key, "curve_dir"))
        dst = cfg->curve_dir, cap = sizeof cfg->curve_dir;
    if (!dst)
        return 0;
    if (strlen(val) >= cap) {
        snprintf(err, errlen, "%s/config:%d: %s too long", cfg->home, lineno, key);
        return -ENAMETOOLONG;
    }
    strcpy(dst, val);
    return 0;
}

static int s_read_file(rt_config_t *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/config", cfg->home);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -errno;
    char line[S_LINE_MAX];
    int lineno = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -EINVAL;
            break;
        }
        rc = s_config_line(cfg, line, lineno, err, errlen);
    }
    fclose(f);
    return rc;
}

int rt_config_load(rt_config_t *cfg, char *err, size_t errlen)
{
    char dummy[8];
    if (!err || !errlen)
        err = dummy, errlen = sizeof dummy;
    memset(cfg, 0, sizeof *cfg);
    int rc = s_set_home(cfg, err, errlen);
    if (rc)
        return rc;
    rc = s_read_file(cfg, err, errlen);
    if (rc) {
        if (rc != -EINVAL && rc != -ENAMETOOLONG)
            snprintf(err, errlen, "%s/config: %s", cfg->home, strerror(-rc));
        return rc;
    }
    const char *env = getenv("ZKUBE_BROKER");
    if (env && *env) {
        if (strlen(env) >= sizeof cfg->broker) {
            snprintf(err, errlen, "ZKUBE_BROKER too long");
            return -ENAMETOOLONG;
        }
        strcpy(cfg->broker, env);
    }
    if (!cfg->broker[0] &&
        snprintf(cfg->broker, sizeof cfg->broker, "ipc://%s/run/broker", cfg->home) >=
            (int)sizeof cfg->broker) {
        snprintf(err, errlen, "broker endpoint too long");
        return -ENAMETOOLONG;
    }
    rt_endpoints_t eps;
    rc = rt_endpoints_from(cfg->broker, &eps);
    if (rc == -ENAMETOOLONG)
        snprintf(err, errlen,
                 "broker endpoint %s: ipc socket path longer than %d bytes "
                 "(use a shorter ZKUBE_HOME or a tcp:// broker)",
                 cfg->broker, S_IPC_PATH_MAX);
    else if (rc)
        snprintf(err, errlen, "broker endpoint %s: expected ipc://PATH or tcp://HOST:PORT",
                 cfg->broker);
    return rc;
}

static int s_mkdir(const char *p, mode_t mode)
{
    if (mkdir(p, mode) == 0 || errno == EEXIST)
        return 0;
    return -errno;
}

static int s_mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = s_mkdir(buf, 0755);
        *p = '/';
        if (rc)
            return rc;
    }
    return s_mkdir(buf, 0755);
}

int rt_config_mkdirs(const rt_config_t *cfg)
{
    static const char *subs[] = {"data", "run", "logs", "images", "keys"};
    int rc = s_mkdir_p(cfg->home);
    for (size_t i = 0; !rc && i < sizeof subs / sizeof subs[0]; i++) {
        char p[PATH_MAX];
        if (!rt_path(cfg, subs[i], p, sizeof p))
            return -ENAMETOOLONG;
        rc = s_mkdir(p, !strcmp(subs[i], "keys") ? 0700 : 0755);
    }
    return rc;
}

static int s_ipc_eps(const char *path, rt_endpoints_t *eps)
{
    static const char *sfx[] = {".router", ".pub", ".sub", ".tap"};
    char *dst[] = {eps->router, eps->pub, eps->sub, eps->tap};
    if (!*path)
        return -EINVAL;
    if (strlen(path) + strlen(".router") > S_IPC_PATH_MAX)
        return -ENAMETOOLONG;
    for (int i = 0; i < 4; i++)
        snprintf(dst[i], RT_EP_MAX, "ipc://%s%s", path, sfx[i]);
    return 0;
}

static int s_tcp_eps(const char *hostport, rt_endpoints_t *eps)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || !colon[1])
        return -EINVAL;
    char *end = NULL;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || port < 1 || port > 65535 - 3)
        return -EINVAL;
    int hlen = (int)(colon - hostport);
    char *dst[] = {eps->router, eps->pub, eps->sub, eps->tap};
    for (int i = 0; i < 4; i++)
        if (snprintf(dst[i], RT_EP_MAX, "tcp://%.*s:%ld", hlen, hostport, port + i) >= RT_EP_MAX)
            return -EINVAL;
    return 0;
}

int rt_endpoints_from(const char *base, rt_endpoints_t *eps)
{
    if (!base || !eps)
        return -EINVAL;
    memset(eps, 0, sizeof *eps);
    if (strlen(base) >= RT_EP_MAX)
        return -EINVAL;
    if (!strncmp(base, "ipc://", 6))
        return s_ipc_eps(base + 6, eps);
    if (!strncmp(base, "tcp://", 6))
        return s_tcp_eps(base + 6, eps);
    return -EINVAL;
}

const char *rt_path(const rt_config_t *cfg, const char *rel, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s/%s", cfg->home, rel);
    if (w < 0 || (size_t)w >= n)
        return NULL;
    return buf;
}
