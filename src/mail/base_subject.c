/* RFC 5256 2.1, step by step, over the decoded subject. The grammar of section 5 is
 * ambiguous, so the steps are followed literally: trailers, then leaders and blobs until
 * none is left, then one "[fwd: ...]" wrapper, and again from the trailers. */
#include "mail/base_subject.h"
#include "mail/mime.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP at s[0..len): its length, or 0. */
static size_t blob(const char *s, size_t len)
{
	if (len == 0 || s[0] != '[')
		return 0;
	size_t i = 1;
	while (i < len && s[i] != '[' && s[i] != ']')
		i++;
	if (i >= len || s[i] != ']')
		return 0;
	i++;
	while (i < len && is_wsp(s[i]))
		i++;
	return i;
}

/* *subj-blob subj-refwd, where subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":":
 * its length, or 0. */
static size_t refwd(const char *s, size_t len)
{
	size_t i = 0, b;
	while ((b = blob(s + i, len - i)) > 0)
		i += b;
	if (len - i >= 2 && strncasecmp(s + i, "re", 2) == 0)
		i += 2;
	else if (len - i >= 2 && strncasecmp(s + i, "fw", 2) == 0)
		i += len - i >= 3 && (s[i + 2] | 0x20) == 'd' ? 3 : 2;
	else
		return 0;
	while (i < len && is_wsp(s[i]))
		i++;
	i += blob(s + i, len - i);
	return i < len && s[i] == ':' ? i + 1 : 0;
}

bool base_subject(const char *value, size_t len, buf *out)
{
	/* (1) decoded; tabs, line ends and runs of spaces become one space */
	buf decoded;
	buf_init(&decoded);
	mime_header_decode(value, len, &decoded);
	char *s = decoded.data;
	size_t n = 0;
	for (size_t i = 0; i < decoded.len; i++) {
		char c = is_wsp(s[i]) || s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
		if (c != ' ' || n == 0 || s[n - 1] != ' ')
			s[n++] = c;
	}
	size_t start = 0, end = n;
	bool reply = false;
	for (;;) {
		/* (2) subj-trailer = "(fwd)" / WSP, repeated */
		for (;;) {
			if (end > start && is_wsp(s[end - 1])) {
				end--;
			} else if (end - start >= 5 && strncasecmp(s + end - 5, "(fwd)", 5) == 0) {
				end -= 5;
				reply = true;
			} else {
				break;
			}
		}
		/* (3) subj-leader = (*subj-blob subj-refwd) / WSP, and (4) a subj-blob that leaves
		 * a base behind, until (5) neither matches */
		for (bool changed = true; changed;) {
			changed = false;
			for (size_t r; start < end;) {
				if (is_wsp(s[start]))
					start++;
				else if ((r = refwd(s + start, end - start)) > 0) {
					start += r;
					reply = true;
				} else
					break;
				changed = true;
			}
			size_t b = blob(s + start, end - start);
			if (b > 0 && start + b < end) {
				start += b;
				changed = true;
			}
		}
		/* (6) subj-fwd-hdr "[fwd:" and subj-fwd-trl "]" around the rest */
		if (end - start >= 6 && strncasecmp(s + start, "[fwd:", 5) == 0 && s[end - 1] == ']') {
			start += 5;
			end--;
			reply = true;
			continue;
		}
		break;
	}
	buf_append(out, s + start, end - start);
	buf_free(&decoded);
	return reply;
}
