/* Event log writer; see log.h. */
#include "core/log.h"
#include "core/buf.h"
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = 2;
static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_setup(int fd, enum log_level min_level)
{
	log_fd = fd;
	log_min = min_level;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < log_min)
		return;
	struct timeval tv;
	struct tm tm;
	char stamp[32];
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	buf line;
	buf_init(&line);
	buf_printf(&line, "%s.%03dZ %s ", stamp, (int)(tv.tv_usec / 1000), level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	/* A log line is one line: control characters from the network become '?'. */
	for (size_t i = 0; i < line.len; i++)
		if ((unsigned char)line.data[i] < 0x20)
			line.data[i] = '?';
	buf_putc(&line, '\n');
	ssize_t ignored = write(log_fd, line.data, line.len);
	(void)ignored;
	buf_free(&line);
}
