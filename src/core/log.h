/* One line per event: "TIME LEVEL key=value ... text". Callers put the session or queue id
 * first (session=4f2a), so one grep follows a connection or a message. Each line is written with
 * a single write(2), so lines from the store thread and the event loop never interleave. */
#ifndef ESTAFETA_LOG_H
#define ESTAFETA_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sends log lines to fd (default 2) and drops those below min_level. */
void log_setup(int fd, enum log_level min_level);
/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int log_level_parse(const char *name);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#endif
