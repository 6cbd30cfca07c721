/* ARC sets; see arc_sets.h. */
#include "mail/arc_sets.h"
#include "mail/dkim_canon.h"
#include <string.h>
#include <strings.h>

static const char *const field_names[ARC_FIELDS] = {
	"ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal",
};

static int field_kind(const struct header_field *f)
{
	for (int k = 0; k < ARC_FIELDS; k++)
		if (f->name_len == strlen(field_names[k]) &&
		    strncasecmp(f->name, field_names[k], f->name_len) == 0)
			return k;
	return -1;
}

const char *arc_sets_collect(const struct header_field *fields, size_t count, struct arc_set *sets,
			     unsigned *n)
{
	*n = 0;
	memset(sets, 0, ARC_MAX_INSTANCES * sizeof(*sets));
	for (size_t i = 0; i < count; i++) {
		int k = field_kind(&fields[i]);
		if (k < 0)
			continue;
		size_t after;
		unsigned inst = arc_instance_of(fields[i].value, fields[i].value_len, &after);
		if (inst == 0)
			return "an ARC field without an instance of 1 to 50";
		if (sets[inst - 1].field[k] != NULL)
			return "an ARC field repeated in one instance";
		sets[inst - 1].field[k] = &fields[i];
		if (inst > *n)
			*n = inst;
	}
	for (unsigned i = 0; i < *n; i++)
		for (int k = 0; k < ARC_FIELDS; k++)
			if (sets[i].field[k] == NULL)
				return "an ARC set lacks a field, or an instance is missing";
	return NULL;
}

void arc_sets_canon(const struct arc_set *sets, unsigned count, buf *out)
{
	for (unsigned i = 0; i < count; i++)
		for (int k = 0; k < ARC_FIELDS; k++) {
			const struct header_field *f = sets[i].field[k];
			dkim_canon_header(f->name, f->name_len, f->value, f->value_len, out);
		}
}
