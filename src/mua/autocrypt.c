/* Autocrypt Level 1; see autocrypt.h. */
#include "mua/autocrypt.h"
#include "core/base64.h"
#include "core/fsutil.h"
#include "core/xalloc.h"
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void autocrypt_header_free(struct autocrypt_header *h)
{
	xfree(&h->addr);
	buf_free(&h->keydata);
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

int autocrypt_parse(const char *value, size_t len, struct autocrypt_header *h)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->keydata);
	const char *p = value, *end = value + len;
	bool have_key = false, bad = false;
	while (p < end && !bad) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *attr_end = semi != NULL ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(attr_end - p));
		const char *ns = p, *ne = eq != NULL ? eq : attr_end;
		trim(&ns, &ne);
		const char *vs = eq != NULL ? eq + 1 : attr_end, *ve = attr_end;
		trim(&vs, &ve);
		size_t nlen = (size_t)(ne - ns);
		if (nlen == 0 && eq == NULL) {
			/* an empty attribute (a trailing ";") */
		} else if (eq == NULL || nlen == 0) {
			bad = true;
		} else if (nlen == 4 && strncasecmp(ns, "addr", 4) == 0) {
			bad = h->addr != NULL || ve == vs || memchr(vs, '@', (size_t)(ve - vs)) == NULL;
			for (const char *c = vs; c < ve && !bad; c++)
				bad = (unsigned char)*c <= ' ' || *c == 0x7f;
			if (!bad) {
				h->addr = xstrndup(vs, (size_t)(ve - vs));
				for (char *c = h->addr; *c; c++)
					*c = (char)tolower((unsigned char)*c);
			}
		} else if (nlen == 14 && strncasecmp(ns, "prefer-encrypt", 14) == 0) {
			h->mutual = ve - vs == 6 && strncasecmp(vs, "mutual", 6) == 0;
		} else if (nlen == 7 && strncasecmp(ns, "keydata", 7) == 0) {
			/* folding puts white space inside the base64 */
			buf b64;
			buf_init(&b64);
			for (const char *c = vs; c < ve; c++)
				if (!isspace((unsigned char)*c))
					buf_putc(&b64, *c);
			bad = have_key || b64.len == 0 || base64_decode(b64.data, b64.len, &h->keydata) < 0;
			have_key = true;
			buf_free(&b64);
		} else if (ns[0] != '_') {
			bad = true; /* a critical attribute this client does not know */
		}
		p = semi != NULL ? semi + 1 : end;
	}
	return !bad && h->addr != NULL && h->keydata.len > 0 ? 0 : -1;
}

void autocrypt_write(buf *out, const char *addr, bool mutual, const char *keydata, size_t len)
{
	buf b64;
	buf_init(&b64);
	base64_encode(keydata, len, &b64);
	buf_printf(out, "Autocrypt: addr=%s;%s keydata=", addr, mutual ? " prefer-encrypt=mutual;" : "");
	for (size_t i = 0; i < b64.len; i += 72)
		buf_printf(out, "\r\n %.*s", (int)(b64.len - i < 72 ? b64.len - i : 72), b64.data + i);
	buf_puts(out, "\r\n");
	buf_free(&b64);
}

/* dir/addr, the address checked so it cannot name another file. */
static char *peer_path(const char *dir, const char *addr)
{
	if (addr[0] == '.' || strchr(addr, '/') != NULL || strchr(addr, '@') == NULL)
		return NULL;
	char *path = xasprintf("%s/%s", dir, addr);
	for (char *c = path + strlen(dir) + 1; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return path;
}

void autocrypt_learn(const char *dir, const char *from_addr, const char *value, size_t len)
{
	struct autocrypt_header h;
	char *path = NULL;
	if (autocrypt_parse(value, len, &h) == 0 && strcasecmp(h.addr, from_addr) == 0 &&
	    (path = peer_path(dir, h.addr)) != NULL) {
		buf norm;
		buf_init(&norm);
		autocrypt_write(&norm, h.addr, h.mutual, h.keydata.data, h.keydata.len);
		char *error = NULL;
		/* "Autocrypt: " is not kept: the file holds the value */
		if (fs_write_atomic(path, norm.data + 11, norm.len - 11, 0600, &error) < 0)
			free(error);
		buf_free(&norm);
	}
	free(path);
	autocrypt_header_free(&h);
}

int autocrypt_find(const char *dir, const char *addr, struct autocrypt_header *h)
{
	memset(h, 0, sizeof(*h));
	char *path = peer_path(dir, addr), *data = NULL;
	size_t len = 0;
	int r = -1;
	if (path != NULL && fs_read_file(path, &data, &len) == 0)
		r = autocrypt_parse(data, len, h);
	else
		buf_init(&h->keydata);
	free(data);
	free(path);
	return r;
}

void autocrypt_list(const char *dir, buf *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		struct autocrypt_header h;
		if (e->d_name[0] == '.')
			continue;
		if (autocrypt_find(dir, e->d_name, &h) == 0)
			buf_printf(out, "  %s  prefer-encrypt=%s  key of %zu octets\n", h.addr,
				   h.mutual ? "mutual" : "nopreference", h.keydata.len);
		autocrypt_header_free(&h);
	}
	if (d != NULL)
		closedir(d);
}
