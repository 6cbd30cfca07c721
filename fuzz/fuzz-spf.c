/* libFuzzer target for spf_record.c and spf_macro.c: a record that parses has only terms of
 * known mechanisms and qualifiers, CIDR lengths in range and domain-specs that are valid, and
 * the same text parses the same way again; a macro string expands exactly when its syntax
 * check passes, into printable octets, and a domain-spec's expansion fits in 253 octets. */
#include "verify/spf_record.h"
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_record(const char *txt)
{
	struct spf_record r, again;
	char *error = NULL;
	if (spf_record_parse(txt, &r, &error) < 0) {
		if (error == NULL || r.count != 0)
			abort();
		free(error);
		return;
	}
	for (size_t i = 0; i < r.count; i++) {
		const struct spf_term *t = &r.terms[i];
		if (strchr("+-~?", t->qualifier) == NULL || t->qualifier == '\0' || t->mechanism > SPF_EXISTS ||
		    t->cidr4 < 0 || t->cidr4 > 32 || t->cidr6 < 0 || t->cidr6 > 128 ||
		    (t->domain_spec != NULL && !spf_domain_spec_valid(t->domain_spec)) ||
		    ((t->mechanism == SPF_INCLUDE || t->mechanism == SPF_EXISTS) && t->domain_spec == NULL))
			abort();
	}
	if ((r.redirect != NULL && !spf_domain_spec_valid(r.redirect)) || spf_record_parse(txt, &again, &error) < 0 ||
	    again.count != r.count)
		abort();
	spf_record_free(&again);
	spf_record_free(&r);
}

static void check_macros(const char *spec)
{
	struct spf_macro_env env = { .sender = "strong-bad@email.example.com", .domain = "email.example.com",
				     .family = AF_INET6, .helo = "mx.example.org", .receiver = "mx.example.net",
				     .now = 1700000000 };
	inet_pton(AF_INET6, "2001:db8::cb01", env.ip);
	for (int explanation = 0; explanation < 2; explanation++) {
		buf out;
		buf_init(&out);
		int r = spf_macro_expand(spec, &env, explanation, &out);
		if (spf_macro_expand(spec, NULL, explanation, NULL) != r && out.len <= 8192)
			abort();
		for (size_t i = 0; r == 0 && i < out.len; i++)
			if (out.data[i] < 0x20 || out.data[i] > 0x7e)
				abort();
		buf_clear(&out);
		if (!explanation && spf_domain_expand(spec, &env, &out) == 0 && out.len > 253)
			abort();
		buf_free(&out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	check_record(text);
	check_macros(text);
	free(text);
	return 0;
}
