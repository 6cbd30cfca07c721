/* Tests for password.c: yescrypt hashes verify only their own password, and the SCRAM-SHA-256
 * keys reproduce the exchange of RFC 7677 section 3 (user "user", password "pencil"). */
#include "auth/password.h"
#include "core/base64.h"
#include "core/buf.h"
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_hash_verifies_only_its_password(void **state)
{
	char *hash = password_hash("correct horse battery");
	assert_non_null(hash);
	assert_memory_equal(hash, "$y$", 3);
	assert_true(password_verify("correct horse battery", hash));
	assert_false(password_verify("correct horse batterz", hash));
	assert_false(password_verify("", hash));

	/* A fresh salt each time: the same password never gives the same string. */
	char *again = password_hash("correct horse battery");
	assert_non_null(again);
	assert_string_not_equal(hash, again);
	assert_true(password_verify("correct horse battery", again));
	free(hash);
	free(again);
}

static void test_verify_rejects_broken_hashes(void **state)
{
	assert_false(password_verify("pencil", ""));
	assert_false(password_verify("pencil", "*0"));
	assert_false(password_verify("pencil", "$y$"));
	assert_false(password_verify("pencil", "not a hash at all"));
}

/* Splits "ITER:SALT:STOREDKEY:SERVERKEY" and decodes the keys. */
static void split_credentials(const char *cred, char *iter, char *salt, buf *stored, buf *server)
{
	char copy[256];
	assert_true(strlen(cred) < sizeof(copy));
	strcpy(copy, cred);
	char *parts[4], *save = NULL;
	parts[0] = strtok_r(copy, ":", &save);
	for (int i = 1; i < 4; i++)
		parts[i] = strtok_r(NULL, ":", &save);
	assert_non_null(parts[3]);
	assert_null(strtok_r(NULL, ":", &save));
	strcpy(iter, parts[0]);
	strcpy(salt, parts[1]);
	assert_int_equal(base64_decode(parts[2], strlen(parts[2]), stored), 0);
	assert_int_equal(base64_decode(parts[3], strlen(parts[3]), server), 0);
	assert_int_equal(stored->len, SHA256_DIGEST_LENGTH);
	assert_int_equal(server->len, SHA256_DIGEST_LENGTH);
}

static void test_scram_matches_rfc7677_example(void **state)
{
	static const char salt_b64[] = "W22ZaJ0SNY7soEsUEjb6gQ==";
	static const char auth_message[] =
		"n=user,r=rOprNGfwEbeRWgbNEkqO,"
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
	static const char proof_b64[] = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	static const char verifier_b64[] = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

	buf salt, stored, server, proof, verifier;
	buf_init(&salt);
	buf_init(&stored);
	buf_init(&server);
	buf_init(&proof);
	buf_init(&verifier);
	assert_int_equal(base64_decode(salt_b64, strlen(salt_b64), &salt), 0);
	assert_int_equal(base64_decode(proof_b64, strlen(proof_b64), &proof), 0);
	assert_int_equal(base64_decode(verifier_b64, strlen(verifier_b64), &verifier), 0);

	char *cred = scram_sha256_credentials_salted("pencil", (unsigned char *)salt.data, salt.len, 4096);
	assert_non_null(cred);
	char iter[32], salt_out[64];
	split_credentials(cred, iter, salt_out, &stored, &server);
	assert_string_equal(iter, "4096");
	assert_string_equal(salt_out, salt_b64);

	/* The server's final message: v = HMAC(ServerKey, AuthMessage). */
	unsigned char sig[SHA256_DIGEST_LENGTH];
	unsigned int len;
	HMAC(EVP_sha256(), server.data, (int)server.len, (const unsigned char *)auth_message,
	     strlen(auth_message), sig, &len);
	assert_memory_equal(sig, verifier.data, sizeof(sig));

	/* The client's proof: ClientKey = p XOR HMAC(StoredKey, AuthMessage), and
	 * H(ClientKey) must be the StoredKey we derived. */
	HMAC(EVP_sha256(), stored.data, (int)stored.len, (const unsigned char *)auth_message,
	     strlen(auth_message), sig, &len);
	unsigned char client_key[SHA256_DIGEST_LENGTH], hashed[SHA256_DIGEST_LENGTH];
	for (size_t i = 0; i < sizeof(client_key); i++)
		client_key[i] = (unsigned char)proof.data[i] ^ sig[i];
	SHA256(client_key, sizeof(client_key), hashed);
	assert_memory_equal(hashed, stored.data, sizeof(hashed));

	free(cred);
	buf_free(&salt);
	buf_free(&stored);
	buf_free(&server);
	buf_free(&proof);
	buf_free(&verifier);
}

static void test_scram_credentials_fresh_salt(void **state)
{
	char *a = scram_sha256_credentials("pencil");
	char *b = scram_sha256_credentials("pencil");
	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(a, b);

	char iter[32], salt_b64[64];
	buf stored, server, salt;
	buf_init(&stored);
	buf_init(&server);
	buf_init(&salt);
	split_credentials(a, iter, salt_b64, &stored, &server);
	assert_int_equal(atoi(iter), SCRAM_ITERATIONS);
	assert_int_equal(base64_decode(salt_b64, strlen(salt_b64), &salt), 0);
	assert_int_equal(salt.len, 16);

	/* Re-deriving with the salt it chose gives the same keys. */
	char *again = scram_sha256_credentials_salted("pencil", (unsigned char *)salt.data, salt.len,
						      SCRAM_ITERATIONS);
	assert_string_equal(a, again);
	free(again);
	free(a);
	free(b);
	buf_free(&stored);
	buf_free(&server);
	buf_free(&salt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verifies_only_its_password),
		cmocka_unit_test(test_verify_rejects_broken_hashes),
		cmocka_unit_test(test_scram_matches_rfc7677_example),
		cmocka_unit_test(test_scram_credentials_fresh_salt),
	};
	return cmocka_run_group_tests_name("password", tests, NULL, NULL);
}
