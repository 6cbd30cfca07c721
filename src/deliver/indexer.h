/* The indexer: one thread that puts the decoded text of newly delivered messages
 * (mail/text.h) into the store's full-text index after they are committed, so that decoding
 * and indexing never hold up a delivery. The committer kicks it after each batch with local
 * copies; while kicks keep coming (a burst of mail) it waits for a lull, up to a few seconds,
 * since its work competes with the deliveries' for the disk and the CPU (not for the
 * database's write lock: the index has its own, see store.h); at start it catches up with
 * whatever is not indexed yet. Until a message is indexed, search reads it, and a message
 * indexed only up to the store's bound is read for what the index does not find
 * (store_search_text tells which ones). */
#ifndef ESTAFETA_INDEXER_H
#define ESTAFETA_INDEXER_H

struct indexer;
/* Opens its own store connection and starts the thread. NULL with *error_r. */
struct indexer *indexer_new(const char *data_dir, char **error_r);
/* Safe from any thread: there is something new to index. */
void indexer_kick(struct indexer *ix);
/* Stops the thread once the message at hand is indexed (what is not indexed yet waits for the
 * next start) and frees it. */
void indexer_free(struct indexer **ix);
#endif
