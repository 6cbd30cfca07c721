/* The indexer: one thread that puts the decoded text of newly delivered messages
 * (mail/text.h) into the store's full-text index after they are committed, so that decoding
 * and indexing never hold up a delivery. The committer kicks it after each batch with local
 * copies; while kicks keep coming (a burst of mail) it waits for a lull, up to a few seconds,
 * since its writes compete with the deliveries' for the database; at start it catches up with
 * whatever is not indexed yet. Until a message is indexed, search reads it
 * (store_search_text tells which ones). */
#ifndef ESTAFETA_INDEXER_H
#define ESTAFETA_INDEXER_H

struct indexer;
/* Opens its own store connection and starts the thread. NULL with *error_r. */
struct indexer *indexer_new(const char *data_dir, char **error_r);
/* Safe from any thread: there is something new to index. */
void indexer_kick(struct indexer *ix);
/* Stops the thread (what is not indexed yet waits for the next start) and frees it. */
void indexer_free(struct indexer **ix);
#endif
