/* The SQLite backend's schema, created on first open. PRAGMA user_version holds its version so
 * a later estafeta can migrate an old database and an old estafeta refuses a newer one.
 *
 * Designed for IMAP (RFC 3501, CONDSTORE RFC 7162): UIDs strictly ascend per folder because
 * each delivery takes folders.uidnext in the transaction that inserts the message; every change
 * to a message gets the folder's next modseq, kept in folders.highestmodseq. A message file
 * (bodies) is written once and shared by every folder entry and queue entry that refers to it;
 * what differs per recipient (Return-Path, Delivered-To) is the small header_prefix. */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"

static const char schema_v1[] =
	/* Settings of the store itself: last_uidvalidity makes every folder's UIDVALIDITY
	 * distinct, even for a folder deleted and created again within one second. */
	"CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta VALUES ('last_uidvalidity', 0);"

	"CREATE TABLE domains ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  created INTEGER NOT NULL);"

	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  password_hash TEXT NOT NULL,"
	"  scram_sha256 TEXT NOT NULL,"
	/* POP3 APOP's shared secret (RFC 1939 7), kept readable because APOP needs it; NULL
	 * leaves APOP off for the account. Separate from the password on purpose. */
	"  apop_secret TEXT,"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX accounts_domain ON accounts(domain_id);"

	/* One row per target; an address "@domain" is the domain's catch-all. */
	"CREATE TABLE aliases ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  address TEXT NOT NULL COLLATE NOCASE,"
	"  target TEXT NOT NULL COLLATE NOCASE,"
	"  UNIQUE (address, target));"
	"CREATE INDEX aliases_target ON aliases(target);"
	"CREATE INDEX aliases_domain ON aliases(domain_id);"

	"CREATE TABLE lists ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id),"
	"  address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  created INTEGER NOT NULL);"
	"CREATE INDEX lists_domain ON lists(domain_id);"
	"CREATE TABLE list_members ("
	"  id INTEGER PRIMARY KEY,"
	"  list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,"
	"  member TEXT NOT NULL COLLATE NOCASE,"
	"  UNIQUE (list_id, member));"

	"CREATE TABLE folders ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  uidnext INTEGER NOT NULL DEFAULT 1,"
	"  highestmodseq INTEGER NOT NULL DEFAULT 1,"
	"  special_use TEXT,"
	"  subscribed INTEGER NOT NULL DEFAULT 1,"
	"  UNIQUE (account_id, name));"

	/* path is relative to data_dir ("messages/3f/..."). */
	/* indexed: 0 until the indexer has put the text in the full-text index (1 at once for a
	 * message that only leaves through the queue); see schema_v3 */
	"CREATE TABLE bodies ("
	"  id INTEGER PRIMARY KEY,"
	"  path TEXT NOT NULL UNIQUE,"
	"  size INTEGER NOT NULL,"
	"  indexed INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX bodies_unindexed ON bodies(id) WHERE indexed = 0;"

	"CREATE TABLE folder_messages ("
	"  folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
	"  uid INTEGER NOT NULL,"
	"  body_id INTEGER NOT NULL REFERENCES bodies(id),"
	"  header_prefix BLOB NOT NULL,"
	"  flags INTEGER NOT NULL DEFAULT 0,"
	"  keywords TEXT NOT NULL DEFAULT '',"
	"  internal_date INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  modseq INTEGER NOT NULL,"
	"  PRIMARY KEY (folder_id, uid)) WITHOUT ROWID;"
	"CREATE INDEX folder_messages_body ON folder_messages(body_id);"
	"CREATE INDEX folder_messages_modseq ON folder_messages(folder_id, modseq);"
	/* The full-text index, here until version 3 moved it to its own file (index.db). */
	"CREATE VIRTUAL TABLE search_text USING fts5(header, body, tokenize = 'trigram');"
	"CREATE TRIGGER bodies_search_gone AFTER DELETE ON bodies BEGIN "
	"  DELETE FROM search_text WHERE rowid = old.id; END;"
	/* What left each folder and at which modseq, so a client can be told what vanished since
	 * the state it knows (IMAP QRESYNC, RFC 7162 3.2.5) and sessions sync by changes only. */
	"CREATE TABLE expunged ("
	"  folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
	"  uid INTEGER NOT NULL,"
	"  modseq INTEGER NOT NULL,"
	"  PRIMARY KEY (folder_id, uid)) WITHOUT ROWID;"

	/* The outbound queue: one row per accepted message with remote recipients, one row per
	 * recipient with its own retry state (status: pending, sent, bounced). */
	"CREATE TABLE queue ("
	"  id INTEGER PRIMARY KEY,"
	"  body_id INTEGER NOT NULL REFERENCES bodies(id),"
	"  sender TEXT NOT NULL,"
	"  envid TEXT,"
	"  ret INTEGER NOT NULL DEFAULT 0,"
	"  arrival INTEGER NOT NULL,"
	"  queue_id TEXT NOT NULL);"
	"CREATE INDEX queue_body ON queue(body_id);"
	"CREATE TABLE queue_recipients ("
	"  id INTEGER PRIMARY KEY,"
	"  queue_row INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,"
	"  recipient TEXT NOT NULL,"
	"  orcpt TEXT,"
	"  notify INTEGER NOT NULL DEFAULT 0,"
	"  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'bounced')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL,"
	"  last_error TEXT,"
	/* 1 once the sender was told the delivery is late (queue.delay_warning). */
	"  warned INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX queue_recipients_row ON queue_recipients(queue_row);"
	"CREATE INDEX queue_recipients_due ON queue_recipients(status, next_attempt);"

	"PRAGMA user_version = 1;";

/* Version 2: the IMAP structure strings of each message file (FETCH ENVELOPE, BODY and
 * BODYSTRUCTURE), which the indexer fills with the full-text index, so FETCH of them reads no
 * file and parses nothing (as Dovecot's cache file keeps them). NULL until indexed. */
static const char schema_v2[] =
	"ALTER TABLE bodies ADD COLUMN envelope TEXT;"
	"ALTER TABLE bodies ADD COLUMN body_structure TEXT;"
	"ALTER TABLE bodies ADD COLUMN bodystructure TEXT;"
	"PRAGMA user_version = 2;";

/* Version 3: outbound limits. queue.held keeps a message from delivery attempts until it is
 * released; held_senders holds every message of a sender, those queued later too (estafeta
 * queue hold --sender). submissions records each message an authenticated user submitted,
 * with its recipients, for submission.max_messages_per_hour and max_recipients_per_hour; it
 * is written in the transaction that accepts the message, so only accepted mail counts, and
 * rows older than an hour go as new ones come. */
static const char schema_v3[] =
	"ALTER TABLE queue ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE held_senders ("
	"  sender TEXT PRIMARY KEY COLLATE NOCASE,"
	"  since INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX queue_sender ON queue(sender COLLATE NOCASE);"
	"CREATE TABLE submissions ("
	"  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	"  at INTEGER NOT NULL,"
	"  recipients INTEGER NOT NULL);"
	"CREATE INDEX submissions_account ON submissions(account_id, at);"
	"PRAGMA user_version = 3;";

/* Version 4: the full-text index moves to its own database file, index.db (sqlite_index_db.c),
 * so that indexing a large message never holds this file's write lock, which deliveries need.
 * Its text is indexed again from the messages; index_epoch pairs this file with its index.db
 * (a missing or foreign index.db is rebuilt). bodies.indexed is now 0 (not yet), 1 (the whole
 * text is indexed) or 2 (the text is indexed up to the bound of sqlite_index.c; search reads
 * the message for what the index does not find). */
static const char schema_v4[] =
	"DROP TRIGGER bodies_search_gone;"
	"DROP TABLE search_text;"
	"UPDATE bodies SET indexed = 0 WHERE id IN (SELECT body_id FROM folder_messages);"
	"INSERT INTO meta VALUES ('index_epoch', abs(random()));"
	"PRAGMA user_version = 4;";

/* Version 5: \Recent (RFC 3501 2.3.2): the first UID of each folder that no session has taken
 * as recent yet; the messages already there when a database is upgraded are not recent.
 * Subscriptions become names of their own (RFC 3501 6.3.6): deleting a folder keeps its
 * subscription, and creating one does not subscribe it. */
static const char schema_v5[] =
	"ALTER TABLE folders ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 1;"
	"UPDATE folders SET recent_uid = uidnext;"
	"CREATE TABLE subscriptions ("
	"  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  PRIMARY KEY (account_id, name)) WITHOUT ROWID;"
	"INSERT INTO subscriptions SELECT account_id, name FROM folders WHERE subscribed = 1;"
	"ALTER TABLE folders DROP COLUMN subscribed;"
	"PRAGMA user_version = 5;";

/* Version 6: quotas (RFC 9208). A domain's limits are the default of its accounts (NULL: no
 * limit); an account's own limits replace them (NULL: the domain's, -1: no limit). Octets
 * for storage, a count for messages. */
static const char schema_v6[] =
	"ALTER TABLE domains ADD COLUMN quota_storage INTEGER;"
	"ALTER TABLE domains ADD COLUMN quota_messages INTEGER;"
	"ALTER TABLE accounts ADD COLUMN quota_storage INTEGER;"
	"ALTER TABLE accounts ADD COLUMN quota_messages INTEGER;"
	"PRAGMA user_version = 6;";

/* Version 7: DKIM signing keys (RFC 6376), private keys as PKCS#8 PEM. The database is the
 * server user's alone (mode 0600 in a folder of its own), so the keys are too; a retired key
 * keeps its row with the time it stopped signing. A deleted domain takes its keys along.
 * queue.local_origin: the message was written here (authenticated submission, sendmail, our
 * bounces), so it may be signed; mail relayed from other servers (forwards) never is. */
static const char schema_v7[] =
	"ALTER TABLE queue ADD COLUMN local_origin INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE dkim_keys ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
	"  selector TEXT NOT NULL COLLATE NOCASE,"
	"  algorithm TEXT NOT NULL,"
	"  private_key TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  retired INTEGER,"
	"  UNIQUE (domain_id, selector));"
	"PRAGMA user_version = 7;";

/* Version 8: DMARC aggregate reports. dmarc_observations: what each DMARC evaluation of
 * received mail found while a policy record applied (the record, the message's identifiers,
 * what was done with it, its authentication results), written with the message (or alone
 * for one refused), kept until the reports of its period are made and some days after;
 * meta's dmarc_reported_until is where the last reports ended. dmarc_reports and their
 * records: the reports other receivers sent about our domains (a reporter's report once). */
static const char schema_v8[] =
	"CREATE TABLE dmarc_observations ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  policy_domain TEXT NOT NULL COLLATE NOCASE,"
	"  p TEXT NOT NULL, sp TEXT, np TEXT, adkim TEXT, aspf TEXT, testing TEXT,"
	"  rua TEXT NOT NULL,"
	"  source_ip TEXT NOT NULL,"
	"  header_from TEXT NOT NULL,"
	"  envelope_from TEXT, envelope_to TEXT,"
	"  disposition TEXT NOT NULL, dkim TEXT NOT NULL, spf TEXT NOT NULL,"
	"  auth TEXT NOT NULL);"
	"CREATE INDEX dmarc_observations_at ON dmarc_observations(at);"
	"CREATE TABLE dmarc_reports ("
	"  id INTEGER PRIMARY KEY,"
	"  domain TEXT NOT NULL COLLATE NOCASE,"
	"  org_name TEXT NOT NULL,"
	"  email TEXT NOT NULL,"
	"  report_id TEXT NOT NULL,"
	"  begin INTEGER NOT NULL,"
	"  end INTEGER NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  UNIQUE (domain, org_name, report_id));"
	"CREATE TABLE dmarc_report_records ("
	"  report INTEGER NOT NULL REFERENCES dmarc_reports(id) ON DELETE CASCADE,"
	"  source_ip TEXT NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  disposition TEXT NOT NULL, dkim TEXT NOT NULL, spf TEXT NOT NULL,"
	"  header_from TEXT NOT NULL);"
	"CREATE INDEX dmarc_report_records_report ON dmarc_report_records(report);"
	"PRAGMA user_version = 8;";

/* Version 9: queue.arc_results, the Authentication-Results value of a message received on
 * port 25 that goes on to other domains (a forward), for the ARC set sealing it. */
static const char schema_v9[] =
	"ALTER TABLE queue ADD COLUMN arc_results TEXT;"
	"PRAGMA user_version = 9;";

/* Candidate message files to check after deleting folder entries (sqlite_mailbox.c). A
 * per-connection temporary table, so it costs nothing in the database file. */
static const char temp_tables[] = "CREATE TEMP TABLE body_candidates (id INTEGER PRIMARY KEY);";

int sqlite_schema_apply(struct store *st, char **error_r)
{
	/* The write lock first, so the server and the command line, started together on a new
	 * database, do not both create the schema. */
	if (db_begin(st, error_r) < 0)
		return -1;
	int64_t version = 0;
	if (db_int(st, error_r, &version, "PRAGMA user_version", "") < 0) {
		db_rollback(st);
		return -1;
	}
	if (version > SCHEMA_VERSION) {
		*error_r = xasprintf("the database has schema version %lld, newer than this estafeta "
				     "knows (%d); run the estafeta that created it",
				     (long long)version, SCHEMA_VERSION);
		db_rollback(st);
		return -1;
	}
	/* Each step takes the schema from its version to the next, all in one transaction. */
	static const char *const steps[SCHEMA_VERSION] = { schema_v1, schema_v2, schema_v3, schema_v4,
								    schema_v5, schema_v6, schema_v7,
								    schema_v8, schema_v9 };
	char *msg = NULL;
	for (int64_t v = version; v < SCHEMA_VERSION; v++) {
		if (sqlite3_exec(st->db, steps[v], NULL, NULL, &msg) != SQLITE_OK) {
			*error_r = xasprintf("cannot %s the database schema to version %lld: %s",
					     v == 0 ? "create" : "upgrade", (long long)v + 1, msg);
			sqlite3_free(msg);
			db_rollback(st);
			return -1;
		}
	}
	if (db_commit(st, error_r) < 0)
		return -1;
	if (sqlite3_exec(st->db, temp_tables, NULL, NULL, &msg) != SQLITE_OK) {
		*error_r = xasprintf("cannot create temporary tables: %s", msg);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}
