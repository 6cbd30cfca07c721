/* The full-text indexer thread; see indexer.h. */
#include "deliver/indexer.h"
#include "core/log.h"
#include "core/mtqueue.h"
#include "core/xalloc.h"
#include "imap/imap_envelope.h"
#include "mail/text.h"
#include "store/store.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Messages indexed per store transaction: few just after mail has come (indexing competes
 * with deliveries for the disk and the CPU), twice as many with each batch while no more
 * comes, as every transaction costs FTS5 a segment to write and later merge... */
#define INDEX_BATCH_MIN 8
#define INDEX_BATCH_MAX 256
/* ...and never more message octets than this in one, whatever their number. */
#define INDEX_BATCH_BYTES (32 * 1024 * 1024)
/* The indexer's database page cache. */
#define INDEX_CACHE_KIB (32 * 1024)
/* Mail arriving less than this apart counts as a burst the indexer waits out... */
#define INDEX_LULL_MS 100
/* ...but never longer than this before it indexes a batch. */
#define INDEX_MAX_WAIT_MS 5000
/* Index rows of removed message files deleted per transaction once the work is done. */
#define INDEX_PRUNE_BATCH 100

struct indexer {
	struct store *store;
	struct mtqueue *kicks;
	atomic_bool stop;            /* shutting down: end the batch at the next message */
	pthread_t thread;
};

/* Reads one message file and decodes its text and structure strings into e, adding its size
 * to *octets. False when shutdown came first: each step of a large message takes a while, and
 * what is left out is indexed at the next start. */
static bool index_message(struct indexer *ix, struct index_entry *e, size_t *octets)
{
	buf msg;
	buf_init(&msg);
	char *error = NULL;
	bool done = false;
	/* a file that cannot be read is indexed empty: searched, it is just not found */
	if (store_body_read(ix->store, e->path, &msg, &error) < 0) {
		log_warn("indexer: cannot read %s: %s", e->path, error);
		free(error);
		done = true;
	} else if (!atomic_load(&ix->stop)) {
		buf header, body;
		buf_init(&header);
		buf_init(&body);
		message_text(msg.data, msg.len, &header, &body);
		e->header = buf_steal(&header);
		e->body = buf_steal(&body);
		if (!atomic_load(&ix->stop)) {
			buf envelope, structure, extended;
			buf_init(&envelope);
			buf_init(&structure);
			buf_init(&extended);
			imap_structure_strings(msg.data, msg.len, &envelope, &structure, &extended);
			e->envelope = buf_steal(&envelope);
			e->body_structure = buf_steal(&structure);
			e->bodystructure = buf_steal(&extended);
			done = true;
		}
	}
	*octets += msg.len;
	buf_free(&msg);
	return done;
}

/* Indexes up to limit messages of what waits, fewer when their octets reach the batch's
 * bound; returns 1 when more may wait, 0 when nothing is left, or -1 after logging a store
 * error. */
static int index_batch(struct indexer *ix, size_t limit)
{
	struct index_entry *entries = NULL;
	size_t count = 0, used = 0, octets = 0;
	char *error = NULL;
	if (store_index_pending(ix->store, limit, &entries, &count, &error) < 0) {
		log_error("indexer: cannot list messages to index: %s", error);
		free(error);
		return -1;
	}
	while (used < count && octets < INDEX_BATCH_BYTES && !atomic_load(&ix->stop) &&
	       index_message(ix, &entries[used], &octets))
		used++;
	int r = used > 0 ? store_index_add(ix->store, entries, used, &error) : 0;
	if (r < 0) {
		log_error("indexer: cannot store the index: %s", error);
		free(error);
	}
	index_entries_free(entries, count);
	return r < 0 ? -1 : used < count || count == limit;
}

/* Once what waited is indexed: the rows of removed message files go, and the logs that the
 * work grew are truncated. */
static void index_tidy(struct indexer *ix)
{
	char *error = NULL;
	int n;
	while ((n = store_index_prune(ix->store, INDEX_PRUNE_BATCH, &error)) == INDEX_PRUNE_BATCH &&
	       !atomic_load(&ix->stop))
		;
	if (n < 0) {
		log_error("indexer: cannot remove what is gone from the index: %s", error);
		free(error);
	}
	store_checkpoint(ix->store);
}

static void *indexer_thread(void *arg)
{
	struct indexer *ix = arg;
	void *kicks[64];
	/* Deliveries first: this thread runs at the lowest CPU priority (Linux gives each thread
	 * its own nice value), so under a burst the index lags behind (search reads what is not
	 * indexed yet) and catches up when mail slows down. */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	/* the first pass catches up with what an earlier run left; later passes start at a kick,
	 * or at once when a pass ended because mail came while it worked (that kick is taken) */
	bool kicked = true;
	while (!atomic_load(&ix->stop) &&
	       (kicked || mtqueue_pop(ix->kicks, kicks, 64, true) > 0)) {
		/* while mail keeps coming, wait for a lull (at most INDEX_MAX_WAIT_MS): indexing
		 * competes with deliveries for the database, deliveries win */
		for (int waited = 0; waited < INDEX_MAX_WAIT_MS; waited += INDEX_LULL_MS) {
			struct timespec lull = { 0, INDEX_LULL_MS * 1000000L };
			nanosleep(&lull, NULL);
			if (mtqueue_pop(ix->kicks, kicks, 64, false) == 0)
				break;
		}
		kicked = false;
		size_t batch = INDEX_BATCH_MIN;
		while (index_batch(ix, batch) == 1 && !atomic_load(&ix->stop)) {
			if (mtqueue_pop(ix->kicks, kicks, 64, false) > 0) {
				kicked = true;
				break;
			}
			batch = batch < INDEX_BATCH_MAX ? batch * 2 : batch;
		}
		if (!kicked && !atomic_load(&ix->stop))
			index_tidy(ix);
	}
	return NULL;
}

struct indexer *indexer_new(const char *data_dir, char **error_r)
{
	struct store *st = store_open(data_dir, error_r);
	if (st == NULL)
		return NULL;
	/* what this connection marks in the store (indexed, structure strings) can always be
	 * redone from the messages: no fsync for it; and FTS5's merges
	 * reread the segments they rewrite, which a bigger cache keeps (a 20,000-message
	 * backlog: 30.7 s with the default 2 MiB and batches of 8, 21 s with these) */
	if (store_index_open(st, error_r) < 0 || store_relax_sync(st, error_r) < 0 ||
	    store_cache_size(st, INDEX_CACHE_KIB, error_r) < 0) {
		store_close(&st);
		return NULL;
	}
	struct indexer *ix = xcalloc(1, sizeof(*ix));
	ix->store = st;
	ix->kicks = mtqueue_new();
	if (pthread_create(&ix->thread, NULL, indexer_thread, ix) != 0)
		abort();
	return ix;
}

void indexer_kick(struct indexer *ix)
{
	mtqueue_push(ix->kicks, ix);
}

void indexer_free(struct indexer **ixp)
{
	struct indexer *ix = *ixp;
	if (ix == NULL)
		return;
	atomic_store(&ix->stop, true);
	mtqueue_close(ix->kicks);
	pthread_join(ix->thread, NULL);
	store_close(&ix->store);
	mtqueue_free(&ix->kicks);
	free(ix);
	*ixp = NULL;
}
