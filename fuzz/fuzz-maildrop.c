/* libFuzzer target for maildrop.c: the server reads maildrop files anyone on the machine may
 * write, a piece at a time. A parse that succeeds must give a body offset inside the input, at
 * least one recipient, and addresses that write back into an envelope the parser reads the
 * same; the envelope read from any shorter part asks for more or fails, never differs; the
 * message check fed in two pieces agrees with the check of the whole. */
#include "deliver/maildrop.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildrop_envelope env;
	const char *error;
	const char *text = (const char *)data;
	size_t half = size / 2;
	struct maildrop_body whole = { 0 }, split = { 0 };
	maildrop_body_feed(&whole, text, size);
	maildrop_body_feed(&split, text, half);
	maildrop_body_feed(&split, text + half, size - half);
	if (maildrop_body_valid(&whole) != maildrop_body_valid(&split))
		abort();
	int partial = maildrop_parse_envelope(text, half, &env, &error);
	size_t partial_off = env.body_off;
	maildrop_envelope_free(&env);
	if (maildrop_parse(text, size, &env, &error) < 0)
		return 0;
	if (partial < 0 || (partial == 1 && partial_off != env.body_off))
		abort();
	if (env.body_off > size || env.rcpts.count == 0 || env.rcpts.count > MAILDROP_MAX_RECIPIENTS)
		abort();
	buf again;
	buf_init(&again);
	maildrop_write_envelope(&again, env.sender, (const char *const *)env.rcpts.items, env.rcpts.count);
	struct maildrop_envelope env2;
	if (maildrop_parse(again.data, again.len, &env2, &error) < 0 ||
	    strcmp(env.sender, env2.sender) != 0 || env2.rcpts.count != env.rcpts.count ||
	    env2.body_off != again.len)
		abort();
	for (size_t i = 0; i < env.rcpts.count; i++)
		if (strcmp(env.rcpts.items[i], env2.rcpts.items[i]) != 0)
			abort();
	maildrop_envelope_free(&env2);
	maildrop_envelope_free(&env);
	buf_free(&again);
	return 0;
}
