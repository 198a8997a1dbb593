/*
 * runtime/log — one line per event on stderr, tagged with UTC time (ms),
 * level letter and actor id, so the logs of many actors interleave readably.
 */
#include "runtime/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static char s_actor[64] = "zkube";
static int s_level = -1;
static int s_init;

static int s_level_from_env(void)
{
    const char *e = getenv("ZKUBE_LOG");
    if (!e || !*e)
        return RT_LOG_INFO;
    if (!strcasecmp(e, "error"))
        return RT_LOG_ERROR;
    if (!strcasecmp(e, "warn") || !strcasecmp(e, "warning"))
        return RT_LOG_WARN;
    if (!strcasecmp(e, "debug"))
        return RT_LOG_DEBUG;
    return RT_LOG_INFO;
}

void rt_log_init(const char *actor_id)
{
    if (actor_id && *actor_id)
        snprintf(s_actor, sizeof s_actor, "%s", actor_id);
    s_level = s_level_from_env();
    s_init = 1;
}

int rt_log_is_init(void)
{
    return s_init;
}

void rt_log(int level, const char *fmt, ...)
{
    if (s_level < 0)
        s_level = s_level_from_env();
    if (level > s_level)
        return;
    static const char letters[] = "EWID";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[2048];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %c %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, letters[level < 0 || level > 3 ? 0 : level],
                     s_actor);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* one write per line so that concurrent actors do not interleave */
    size_t len = strnlen(line, sizeof line - 2);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
