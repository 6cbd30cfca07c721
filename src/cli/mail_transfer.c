/* What import and export share: see mail_transfer.h. */
#include "cli/mail_transfer.h"
#include "imap/imap_mutf7.h"
#include "mail/maildir_name.h"
#include "store/store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void progress_init(struct progress *p, const char *what)
{
	*p = (struct progress){ .what = what, .terminal = isatty(STDERR_FILENO) == 1, .last = time(NULL) };
}

void progress_step(struct progress *p, const char *folder)
{
	p->count++;
	time_t now = p->terminal ? time(NULL) : 0;
	if (p->terminal ? now == p->last : p->count % 1000 != 0)
		return;
	p->last = now;
	fprintf(stderr, "estafeta: %s: %llu messages (%s)\n", p->what, (unsigned long long)p->count,
		folder);
}

static const struct {
	char letter;
	uint32_t flag;
} letter_flags[] = {
	{ 'D', FLAG_DRAFT }, { 'F', FLAG_FLAGGED }, { 'R', FLAG_ANSWERED },
	{ 'S', FLAG_SEEN },  { 'T', FLAG_DELETED },
};
#define LETTER_COUNT (sizeof(letter_flags) / sizeof(letter_flags[0]))

uint32_t maildir_letters_flags(uint32_t upper, bool *forwarded_r)
{
	uint32_t flags = 0;
	for (size_t i = 0; i < LETTER_COUNT; i++)
		if (upper & MAILDIR_LETTER(letter_flags[i].letter))
			flags |= letter_flags[i].flag;
	*forwarded_r = (upper & MAILDIR_LETTER('P')) != 0;
	return flags;
}

uint32_t maildir_flags_letters(uint32_t flags)
{
	uint32_t upper = 0;
	for (size_t i = 0; i < LETTER_COUNT; i++)
		if (flags & letter_flags[i].flag)
			upper |= MAILDIR_LETTER(letter_flags[i].letter);
	return upper;
}

void maildir_folder_name(const char *dir, buf *out)
{
	buf level;
	buf_init(&level);
	for (const char *p = dir + (dir[0] == '.'); *p != '\0';) {
		size_t n = strcspn(p, ".");
		char *part = strndup(p, n);
		buf_clear(&level);
		if (out->len > 0)
			buf_putc(out, '/');
		if (imap_mutf7_decode(part, &level) == 0)
			buf_append(out, level.data, level.len);
		else
			buf_puts(out, part);
		free(part);
		p += n + (p[n] == '.');
	}
	buf_free(&level);
}

int maildir_folder_dir(const char *name, buf *out)
{
	buf level;
	buf_init(&level);
	int r = 0;
	for (const char *p = name; *p != '\0' && r == 0;) {
		size_t n = strcspn(p, "/");
		char *part = strndup(p, n);
		buf_clear(&level);
		if (strchr(part, '.') != NULL || imap_mutf7_encode(part, &level) < 0)
			r = -1;
		else
			buf_printf(out, ".%s", level.data);
		free(part);
		p += n + (p[n] == '/');
	}
	buf_free(&level);
	return r;
}

bool keyword_valid(const char *s, size_t len)
{
	if (len == 0 || s[0] == '\\')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 32 || c >= 127 || strchr("(){\"\\%*]", c) != NULL)
			return false;
	}
	return true;
}
