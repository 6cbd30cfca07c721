/* buf: the one length-carrying byte buffer of estafeta. It grows as needed, always keeps a NUL
 * after its contents (so data can be used as a C string when it holds text), and never holds a
 * NULL pointer after buf_init. */
#ifndef ESTAFETA_BUF_H
#define ESTAFETA_BUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
	char *data;
	size_t len;
	size_t cap;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_clear(buf *b);
/* Makes room for extra more bytes without changing len. */
void buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *p, size_t n);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Removes the first n bytes. */
void buf_consume(buf *b, size_t n);
/* Hands the contents to the caller as a NUL-terminated string. b is left like a freed buffer:
 * appending to it starts a new one, buf_free on it is harmless. */
char *buf_steal(buf *b);
#endif
