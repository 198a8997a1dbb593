/*
 * runtime/log — logs to stderr, one line each, tagged with time, level and
 * actor id: "2026-11-27T05:54:45.123Z I apiserver: listening".
 * Level from ZKUBE_LOG (error, warn, info, debug; default info).
 */
#ifndef ZK_RUNTIME_LOG_H
#define ZK_RUNTIME_LOG_H

enum { RT_LOG_ERROR = 0, RT_LOG_WARN, RT_LOG_INFO, RT_LOG_DEBUG };

void rt_log_init(const char *actor_id);
/* True once rt_log_init has run (rt_actor_open tags the log with its actor
 * id only when the program has not chosen a tag itself). */
int rt_log_is_init(void);
void rt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define rt_err(...) rt_log(RT_LOG_ERROR, __VA_ARGS__)
#define rt_warn(...) rt_log(RT_LOG_WARN, __VA_ARGS__)
#define rt_info(...) rt_log(RT_LOG_INFO, __VA_ARGS__)
#define rt_debug(...) rt_log(RT_LOG_DEBUG, __VA_ARGS__)

#endif
