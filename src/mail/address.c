/* Mail addresses as SMTP carries them: the RFC 5321 4.1.2 Path and Mailbox grammar, RFC 5321
 * 4.1.3 address literals, RFC 6531 3.3's UTF-8 extension, and the canonical form we log and
 * store. Pure functions over buffers; see address.h.
 *
 * Parsing runs in two steps: a scan that only checks the grammar and finds where each part
 * ends, then the size limits, then the copy into struct address. So every error is decided
 * before anything is written, and a part that is too long is told apart from one that is
 * malformed. */
#include "mail/address.h"
#include <string.h>
#include <strings.h>

/* The longest DNS label (RFC 1035 2.3.4). A longer one cannot be looked up, so it is no
 * domain name. */
#define DNS_LABEL_MAX 63

/* A read position over the input; utf8 records whether a UTF8-non-ascii sequence was seen.
 * The scanners always accept UTF-8, and the caller decides afterwards whether it was
 * allowed: that way a non-ASCII address that is otherwise valid is reported as
 * ADDRESS_NEEDS_UTF8, not as a syntax error. */
struct scan {
	const unsigned char *s;
	size_t len;
	size_t pos;
	bool utf8;
};

static bool at(const struct scan *sc, char c)
{
	return sc->pos < sc->len && sc->s[sc->pos] == (unsigned char)c;
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Let-dig = ALPHA / DIGIT */
static bool is_let_dig(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

/* RFC 5322 3.2.3:
 * atext = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "/" / "=" /
 *         "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~" */
static bool is_atext(unsigned char c)
{
	return is_let_dig(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5321 4.1.2:
 * qtextSMTP = %d32-33 / %d35-91 / %d93-126 */
static bool is_qtext(unsigned char c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/* RFC 6532 3.1 / RFC 3629 4:
 * UTF8-non-ascii = UTF8-2 / UTF8-3 / UTF8-4
 * UTF8-2 = %xC2-DF UTF8-tail
 * UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
 *          %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
 * UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
 *          %xF4 %x80-8F 2( UTF8-tail )
 * UTF8-tail = %x80-BF
 * Overlong forms, surrogates and code points above U+10FFFF are thereby refused.
 * Consumes one sequence and returns true, or returns false and leaves the position. */
static bool scan_utf8(struct scan *sc)
{
	const unsigned char *p = sc->s + sc->pos;
	size_t left = sc->len - sc->pos;
	if (left == 0)
		return false;
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF; /* the range of the second octet */
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return false;
	}
	if (left < n || p[1] < lo || p[1] > hi)
		return false;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return false;
	sc->pos += n;
	sc->utf8 = true;
	return true;
}

/* Atom = 1*atext   (atext =/ UTF8-non-ascii, RFC 6531 3.3) */
static bool scan_atom(struct scan *sc)
{
	size_t start = sc->pos;
	for (;;) {
		if (sc->pos < sc->len && is_atext(sc->s[sc->pos]))
			sc->pos++;
		else if (!scan_utf8(sc))
			break;
	}
	return sc->pos > start;
}

/* Dot-string = Atom *("."  Atom) */
static bool scan_dot_string(struct scan *sc)
{
	if (!scan_atom(sc))
		return false;
	while (at(sc, '.')) {
		sc->pos++;
		if (!scan_atom(sc))
			return false;
	}
	return true;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE
 * QcontentSMTP = qtextSMTP / quoted-pairSMTP
 * quoted-pairSMTP = %d92 %d32-126
 * (qtextSMTP =/ UTF8-non-ascii, RFC 6531 3.3; quoted-pairSMTP is not extended) */
static bool scan_quoted_string(struct scan *sc)
{
	if (!at(sc, '"'))
		return false;
	sc->pos++;
	while (sc->pos < sc->len) {
		unsigned char c = sc->s[sc->pos];
		if (c == '"') {
			sc->pos++;
			return true;
		}
		if (c == '\\') {
			if (sc->pos + 1 >= sc->len || sc->s[sc->pos + 1] < 32 || sc->s[sc->pos + 1] > 126)
				return false;
			sc->pos += 2;
		} else if (is_qtext(c)) {
			sc->pos++;
		} else if (!scan_utf8(sc)) {
			return false;
		}
	}
	return false;
}

/* sub-domain = Let-dig [Ldh-str]
 * Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
 * (sub-domain =/ U-label, RFC 6531 3.3)
 * A label is thus letters, digits and inner hyphens; a U-label may mix in UTF-8. That a
 * U-label is valid IDNA2008 (RFC 5890) is a question of code points, left to libidn2 where
 * the name is converted or looked up; here it only has to be well-formed UTF-8. The 63-octet
 * DNS limit is checked for ASCII labels only, since a U-label's length that counts is that
 * of its A-label. */
static bool scan_sub_domain(struct scan *sc)
{
	size_t start = sc->pos;
	bool unicode = false, last_hyphen = false;
	for (;;) {
		if (sc->pos < sc->len && (is_let_dig(sc->s[sc->pos]) || sc->s[sc->pos] == '-')) {
			last_hyphen = sc->s[sc->pos] == '-';
			sc->pos++;
		} else if (scan_utf8(sc)) {
			unicode = true;
			last_hyphen = false;
		} else {
			break;
		}
	}
	if (sc->pos == start || sc->s[start] == '-' || last_hyphen)
		return false;
	return unicode || sc->pos - start <= DNS_LABEL_MAX;
}

/* Domain = sub-domain *("." sub-domain) */
static bool scan_domain(struct scan *sc)
{
	if (!scan_sub_domain(sc))
		return false;
	while (at(sc, '.')) {
		sc->pos++;
		if (!scan_sub_domain(sc))
			return false;
	}
	return true;
}

/* IPv4-address-literal = Snum 3("."  Snum)
 * Snum = 1*3DIGIT   ; representing a decimal integer value in the range 0 through 255 */
static bool ipv4_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		unsigned value = 0;
		size_t digits = 0;
		while (i < len && is_digit(s[i]) && digits < 3) {
			value = value * 10 + (unsigned)(s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || value > 255)
			return false;
	}
	return i == len;
}

/* IPv6-addr   = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp
 * IPv6-hex    = 1*4HEXDIG
 * IPv6-full   = IPv6-hex 7(":" IPv6-hex)
 * IPv6-comp   = [IPv6-hex *5(":" IPv6-hex)] "::" [IPv6-hex *5(":" IPv6-hex)]
 *               ; No more than 6 groups in addition to the "::" may be present.
 * IPv6v4-full = IPv6-hex 5(":" IPv6-hex) ":" IPv4-address-literal
 * IPv6v4-comp = [IPv6-hex *3(":" IPv6-hex)] "::" [IPv6-hex *3(":" IPv6-hex) ":"]
 *               IPv4-address-literal
 *               ; No more than 4 groups in addition to the "::" and IPv4-address-literal
 * Walks the groups once, counting them and noting "::" and a trailing IPv4 address, then
 * holds the count to what the chosen form allows. */
static bool ipv6_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, groups = 0;
	bool comp = false, v4 = false;
	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		comp = true;
		i = 2;
	}
	while (i < len) {
		size_t j = i;
		while (j < len && is_hex(s[j]))
			j++;
		if (j < len && s[j] == '.') {
			if (!ipv4_valid(s + i, len - i))
				return false;
			v4 = true;
			break;
		}
		if (j == i || j - i > 4)
			return false;
		groups++;
		if (j == len)
			break;
		if (s[j] != ':')
			return false;
		if (j + 1 < len && s[j + 1] == ':') {
			if (comp)
				return false;
			comp = true;
			i = j + 2;
		} else {
			i = j + 1;
			if (i == len)
				return false; /* a trailing single ":" */
		}
	}
	size_t full = v4 ? 6 : 8;
	return comp ? groups <= full - 2 : groups == full;
}

/* address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 *                         General-address-literal ) "]"
 * IPv6-address-literal = "IPv6:" IPv6-addr
 * General-address-literal = Standardized-tag ":" 1*dcontent
 * A Standardized-tag "MUST be specified in a Standards-Track RFC and registered with IANA"
 * (4.1.3); IPv6 is the only one registered and has its own production, so no general literal
 * can be valid today and we refuse them rather than accept addresses nobody can route. */
static bool scan_address_literal(struct scan *sc)
{
	if (!at(sc, '['))
		return false;
	const unsigned char *body = sc->s + sc->pos + 1;
	size_t left = sc->len - sc->pos - 1;
	const unsigned char *close = memchr(body, ']', left);
	if (close == NULL)
		return false;
	size_t n = (size_t)(close - body);
	bool ok;
	if (n >= 5 && strncasecmp((const char *)body, "IPv6:", 5) == 0)
		ok = ipv6_valid(body + 5, n - 5);
	else
		ok = ipv4_valid(body, n);
	if (ok)
		sc->pos += n + 2;
	return ok;
}

/* Where the parts of a Mailbox lie in the input. */
struct mailbox_span {
	size_t local, local_len;
	size_t domain, domain_len;
	bool quoted;
	bool literal;
};

/* Mailbox    = Local-part "@" ( Domain / address-literal )
 * Local-part = Dot-string / Quoted-string */
static bool scan_mailbox(struct scan *sc, struct mailbox_span *m)
{
	m->local = sc->pos;
	m->quoted = at(sc, '"');
	if (!(m->quoted ? scan_quoted_string(sc) : scan_dot_string(sc)))
		return false;
	m->local_len = sc->pos - m->local;
	if (!at(sc, '@'))
		return false;
	sc->pos++;
	m->domain = sc->pos;
	m->literal = at(sc, '[');
	if (!(m->literal ? scan_address_literal(sc) : scan_domain(sc)))
		return false;
	m->domain_len = sc->pos - m->domain;
	return true;
}

/* Applies the RFC 5321 4.5.3.1 limits and the UTF-8 rule to a scanned mailbox whose whole
 * path (or bare mailbox) took total octets, then fills out. The local-part limit counts the
 * octets as sent, quotes included: that is the Local-part the RFC measures. */
static enum address_error mailbox_finish(const struct scan *sc, const struct mailbox_span *m,
					 size_t total, size_t max_total, bool allow_utf8,
					 struct address *out)
{
	if (m->local_len > ADDRESS_MAX_LOCAL || m->domain_len > ADDRESS_MAX_DOMAIN ||
	    total > max_total)
		return ADDRESS_TOO_LONG;
	if (sc->utf8 && !allow_utf8)
		return ADDRESS_NEEDS_UTF8;

	const unsigned char *p = sc->s + m->local;
	size_t n = 0;
	if (m->quoted) {
		/* The content between the quotes, each quoted-pair reduced to its character. */
		for (size_t i = 1; i + 1 < m->local_len; i++) {
			if (p[i] == '\\')
				i++;
			out->local[n++] = (char)p[i];
		}
	} else {
		memcpy(out->local, p, m->local_len);
		n = m->local_len;
	}
	out->local[n] = '\0';

	/* Domain names are case-insensitive (RFC 1035 2.3.3), so one spelling serves comparisons
	 * and logs. In a literal only the "IPv6" tag and hex digits carry case; both are
	 * case-insensitive too, and the tag keeps its registered spelling. */
	p = sc->s + m->domain;
	for (size_t i = 0; i < m->domain_len; i++)
		out->domain[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] - 'A' + 'a' : p[i]);
	out->domain[m->domain_len] = '\0';
	if (m->literal && strncmp(out->domain, "[ipv6:", 6) == 0)
		memcpy(out->domain + 1, "IPv6", 4);

	out->quoted = m->quoted;
	out->utf8 = sc->utf8;
	return ADDRESS_OK;
}

/* Reverse-path = Path / "<>"
 * Forward-path = Path
 * Path         = "<" [ A-d-l ":" ] Mailbox ">"
 * A-d-l        = At-domain *( "," At-domain )
 * At-domain    = "@" Domain
 * The source route "MUST BE accepted ... and SHOULD be ignored": it is checked and dropped.
 * It still counts towards the 256-octet path limit, which covers the whole path. */
enum address_error address_parse_path(const char *s, size_t len, bool allow_null, bool allow_utf8,
				      struct address *out, size_t *consumed_r)
{
	struct scan sc = { (const unsigned char *)s, len, 0, false };
	struct mailbox_span m;

	memset(out, 0, sizeof(*out));
	*consumed_r = 0;
	if (!at(&sc, '<'))
		return ADDRESS_SYNTAX;
	sc.pos++;
	if (at(&sc, '>')) {
		if (!allow_null)
			return ADDRESS_SYNTAX;
		out->null = true;
		*consumed_r = 2;
		return ADDRESS_OK;
	}
	if (at(&sc, '@')) {
		for (;;) {
			sc.pos++; /* the "@" */
			if (!scan_domain(&sc))
				return ADDRESS_SYNTAX;
			if (!at(&sc, ','))
				break;
			sc.pos++;
			if (!at(&sc, '@'))
				return ADDRESS_SYNTAX;
		}
		if (!at(&sc, ':'))
			return ADDRESS_SYNTAX;
		sc.pos++;
	}
	if (!scan_mailbox(&sc, &m) || !at(&sc, '>'))
		return ADDRESS_SYNTAX;
	sc.pos++;
	enum address_error err = mailbox_finish(&sc, &m, sc.pos, ADDRESS_MAX_PATH, allow_utf8, out);
	if (err == ADDRESS_OK)
		*consumed_r = sc.pos;
	return err;
}

/* Mailbox = Local-part "@" ( Domain / address-literal ), the whole of s. Held to the path
 * limit less its two angle brackets, so that whatever parses here can be sent in a path. */
enum address_error address_parse_mailbox(const char *s, size_t len, bool allow_utf8,
					 struct address *out)
{
	struct scan sc = { (const unsigned char *)s, len, 0, false };
	struct mailbox_span m;

	memset(out, 0, sizeof(*out));
	if (!scan_mailbox(&sc, &m) || sc.pos != len)
		return ADDRESS_SYNTAX;
	return mailbox_finish(&sc, &m, len, ADDRESS_MAX_PATH - 2, allow_utf8, out);
}

/* True when the unquoted local part can be sent as a Dot-string. Octets above 127 are
 * atext here: the parser let them in only as valid UTF-8 (RFC 6531 atext =/ UTF8-non-ascii). */
static bool local_is_dot_string(const char *local)
{
	const unsigned char *p = (const unsigned char *)local;
	if (p[0] == '\0' || p[0] == '.')
		return false;
	for (size_t i = 0; p[i] != '\0'; i++) {
		if (p[i] == '.') {
			if (p[i + 1] == '.' || p[i + 1] == '\0')
				return false;
		} else if (p[i] < 0x80 && !is_atext(p[i])) {
			return false;
		}
	}
	return true;
}

/* Appends c to out[*n] while it fits with room left for the NUL; false once it does not. */
static bool put(char *out, size_t outlen, size_t *n, char c)
{
	if (*n + 1 >= outlen)
		return false;
	out[(*n)++] = c;
	return true;
}

/* RFC 5321 4.1.2: "the sending system SHOULD transmit the form that uses the minimum quoting
 * possible": a Dot-string when the local part is one, else a Quoted-string in which only
 * DQUOTE and backslash (the octets qtextSMTP leaves out) are escaped. The Postmaster of
 * RCPT TO:<Postmaster> has no domain and is written without "@". */
int address_format(const struct address *a, char *out, size_t outlen)
{
	size_t n = 0;
	bool ok = true;

	if (outlen == 0)
		return -1;
	if (!a->null) {
		bool quote = !local_is_dot_string(a->local);
		if (quote)
			ok = put(out, outlen, &n, '"');
		for (const char *p = a->local; ok && *p != '\0'; p++) {
			if (quote && (*p == '"' || *p == '\\'))
				ok = put(out, outlen, &n, '\\');
			ok = ok && put(out, outlen, &n, *p);
		}
		if (quote)
			ok = ok && put(out, outlen, &n, '"');
		if (a->domain[0] != '\0')
			ok = ok && put(out, outlen, &n, '@');
		for (const char *p = a->domain; ok && *p != '\0'; p++)
			ok = put(out, outlen, &n, *p);
	}
	if (!ok)
		return -1;
	out[n] = '\0';
	return (int)n;
}

/* Domain = sub-domain *("." sub-domain), the whole of s, at most 255 octets (4.5.3.1.2). */
bool address_domain_valid(const char *s, size_t len, bool allow_utf8)
{
	struct scan sc = { (const unsigned char *)s, len, 0, false };
	return len <= ADDRESS_MAX_DOMAIN && scan_domain(&sc) && sc.pos == len &&
	       (allow_utf8 || !sc.utf8);
}
