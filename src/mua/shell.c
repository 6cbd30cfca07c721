/* The interactive mode, as mailx has it: the INBOX listed, then a prompt taking commands by
 * name or by letter ("p 3" reads message 3, "r 3" answers it), words split as a shell would
 * ("move 2 'Old mail'", "F 3 +\\Flagged"), until "q" or the end of input. See mail.h. */
#include "mua/mail.h"
#include "core/xalloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits line into words: spaces separate, quotes group. A backslash is itself, as flags
 * such as \Flagged need it. */
static int split(const char *line, char ***words)
{
	int n = 0;
	*words = NULL;
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		buf w;
		buf_init(&w);
		char quote = 0;
		for (; *p != '\0' && (quote != 0 || (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')); p++) {
			if (quote == 0 && (*p == '"' || *p == '\''))
				quote = *p;
			else if (quote != 0 && *p == quote)
				quote = 0;
			else
				buf_putc(&w, *p);
		}
		*words = xrealloc(*words, (size_t)(n + 2) * sizeof(**words));
		(*words)[n++] = w.data != NULL ? buf_steal(&w) : xstrdup("");
		(*words)[n] = NULL;
	}
	return n;
}

int mail_shell(struct mail_session *s)
{
	s->interactive = true;
	char *list[] = { "list", NULL };
	int last = mail_command(s, 1, list);
	if (s->imap == NULL)
		return last;
	char *line = NULL;
	size_t cap = 0;
	for (;;) {
		printf("& ");
		fflush(stdout);
		if (getline(&line, &cap, stdin) <= 0)
			break;
		char **words;
		int n = split(line, &words);
		if (n > 0 && (strcmp(words[0], "q") == 0 || strcmp(words[0], "quit") == 0 ||
			      strcmp(words[0], "x") == 0 || strcmp(words[0], "exit") == 0)) {
			for (int i = 0; i < n; i++)
				free(words[i]);
			free(words);
			break;
		}
		if (n > 0 && (strcmp(words[0], "?") == 0 || strcmp(words[0], "help") == 0 ||
			      strcmp(words[0], "h") == 0))
			mail_usage(stdout);
		else if (n > 0)
			last = mail_command(s, n, words);
		fflush(stdout);
		for (int i = 0; i < n; i++)
			free(words[i]);
		free(words);
	}
	free(line);
	printf("\n");
	return 0;
}
