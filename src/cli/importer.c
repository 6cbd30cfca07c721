/* Putting imported messages into an account: see importer.h. */
#include "cli/importer.h"
#include "cli/admin.h"
#include "cli/control_client.h"
#include "core/control.h"
#include "core/xalloc.h"
#include "deliver/spool.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A batch is one transaction and one folder fsync: big enough that these cost little per
 * message, small enough that the spool files waiting stay few. */
#define BATCH_MESSAGES 256
#define BATCH_OCTETS (32u << 20)

struct content_key {
	time_t internal_date;
	uint64_t size;
	uint32_t uid;
};

static int content_cmp(const void *a, const void *b)
{
	const struct content_key *x = a, *y = b;
	if (x->internal_date != y->internal_date)
		return x->internal_date < y->internal_date ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

int importer_init(struct importer *imp, struct cli *cli, const char *address_arg)
{
	memset(imp, 0, sizeof(*imp));
	imp->cli = cli;
	imp->address = cli_address(address_arg, false);
	if (imp->address == NULL || (imp->st = cli_store(cli)) == NULL)
		return -1;
	struct account account = { 0 };
	char *error = NULL;
	int r = store_user_get(imp->st, imp->address, &account, &error);
	if (r < 0)
		return cli_fail(error), -1;
	if (r == 0) {
		cli_error("no account %s (see: estafeta user list; make it with estafeta user add)",
			  imp->address);
		return -1;
	}
	imp->account_id = account.id;
	account_clear(&account);
	imp->max_size = (uint64_t)config_int(cli->cfg, "smtp.max_message_size");
	imp->tmp_dir = xasprintf("%s/tmp", store_data_dir(imp->st));
	imp->batch = xcalloc(BATCH_MESSAGES, sizeof(*imp->batch));
	progress_init(&imp->progress, "import");
	return 0;
}

static void folder_forget(struct importer *imp)
{
	for (size_t i = 0; i < imp->before_count; i++)
		message_clear(&imp->before[i]);
	xfree(&imp->before);
	xfree(&imp->by_content);
	imp->before_count = 0;
	folder_clear(&imp->folder);
}

int importer_folder(struct importer *imp, const char *name, uint32_t uidvalidity)
{
	folder_forget(imp);
	char *error = NULL;
	int r = store_folder_create(imp->st, imp->account_id, name, &error);
	if (r == 1)
		r = store_folder_subscribe(imp->st, imp->account_id, name, true, &error);
	if (r >= 0 && uidvalidity != 0) {
		r = store_folder_get(imp->st, imp->account_id, name, &imp->folder, &error);
		if (r == 1)
			r = store_folder_adopt_uidvalidity(imp->st, imp->folder.id, uidvalidity, &error);
		imp->keep_uids = r == 1;
		folder_clear(&imp->folder);
	}
	if (r >= 0)
		r = store_folder_get(imp->st, imp->account_id, name, &imp->folder, &error);
	if (r == 0)
		error = xasprintf("folder %s of %s was deleted meanwhile", name, imp->address);
	if (r > 0)
		r = store_message_list(imp->st, imp->folder.id, &imp->before, &imp->before_count, &error);
	if (r < 0 || error != NULL)
		return cli_fail(error), -1;
	imp->by_content = xcalloc(imp->before_count + 1, sizeof(*imp->by_content));
	for (size_t i = 0; i < imp->before_count; i++)
		imp->by_content[i] = (struct content_key){ imp->before[i].internal_date,
							   imp->before[i].size, imp->before[i].uid };
	qsort(imp->by_content, imp->before_count, sizeof(*imp->by_content), content_cmp);
	imp->folders++;
	return 0;
}

static int uid_cmp(const void *key, const void *elem)
{
	uint32_t uid = *(const uint32_t *)key, other = ((const struct message *)elem)->uid;
	return uid < other ? -1 : uid > other;
}

/* 1 when the folder held this message before the run (see importer.h), 0 when not, -1. */
static int already_there(struct importer *imp, const char *msg, size_t len, uint32_t uid,
			 time_t internal_date)
{
	if (imp->keep_uids && uid != 0 && imp->before_count > 0) {
		const struct message *m = bsearch(&uid, imp->before, imp->before_count,
						  sizeof(*imp->before), uid_cmp);
		if (m != NULL && m->size == len)
			return 1;
	}
	struct content_key key = { internal_date, len, 0 };
	struct content_key *k = bsearch(&key, imp->by_content, imp->before_count,
					sizeof(*imp->by_content), content_cmp);
	if (k == NULL)
		return 0;
	while (k > imp->by_content && content_cmp(k - 1, &key) == 0)
		k--;
	buf stored;
	buf_init(&stored);
	int found = 0;
	for (; found == 0 && k < imp->by_content + imp->before_count && content_cmp(k, &key) == 0; k++) {
		char *error = NULL;
		buf_clear(&stored);
		int r = store_message_read(imp->st, imp->folder.id, k->uid, &stored, &error);
		if (r < 0)
			found = -1, cli_fail(error);
		else if (r == 1 && stored.len == len && memcmp(stored.data, msg, len) == 0)
			found = 1;
	}
	buf_free(&stored);
	return found;
}

static int batch_flush(struct importer *imp)
{
	if (imp->batch_count == 0)
		return 0;
	char *error = NULL;
	int r = store_messages_import(imp->st, imp->folder.id, imp->batch, imp->batch_count, &error);
	if (r == 0)
		imp->imported += imp->batch_count;
	for (size_t i = 0; i < imp->batch_count; i++) {
		free(imp->batch[i].spool_path);
		free((char *)imp->batch[i].keywords);
	}
	imp->batch_count = 0;
	imp->batch_octets = 0;
	return r < 0 ? (cli_fail(error), -1) : 0;
}

/* keywords with those IMAP cannot carry and repeats left out, allocated. */
static char *clean_keywords(const char *keywords)
{
	buf out;
	buf_init(&out);
	for (const char *p = keywords != NULL ? keywords : ""; *p != '\0';) {
		size_t n = strcspn(p, " ");
		bool repeat = false;
		for (const char *q = out.data; !repeat && q < out.data + out.len; q += strcspn(q, " ") + 1)
			repeat = strcspn(q, " ") == n && strncasecmp(q, p, n) == 0;
		if (n > 0 && keyword_valid(p, n) && !repeat) {
			if (out.len > 0)
				buf_putc(&out, ' ');
			buf_append(&out, p, n);
		}
		p += n + (p[n] == ' ');
	}
	return buf_steal(&out);
}

int importer_add(struct importer *imp, const char *msg, size_t len, uint32_t uid, uint32_t flags,
		 const char *keywords, time_t internal_date)
{
	progress_step(&imp->progress, imp->folder.name);
	if (len > imp->max_size) {
		cli_error("%s: a message of %zu octets skipped, over smtp.max_message_size (%llu)",
			  imp->folder.name, len, (unsigned long long)imp->max_size);
		imp->too_big++;
		return 0;
	}
	int r = already_there(imp, msg, len, uid, internal_date);
	if (r != 0) {
		imp->present += r > 0;
		return r > 0 ? 0 : -1;
	}
	bool full = false;
	char *error = NULL;
	struct spool *sp = spool_new(imp->tmp_dir, &full, &error);
	if (sp != NULL) {
		spool_write(sp, msg, len);
		if (spool_flush(sp, &full, &error) < 0)
			spool_discard(&sp);
	}
	if (sp == NULL)
		return cli_fail(error), -1;
	imp->batch[imp->batch_count++] = (struct import_message){
		.spool_path = spool_release(&sp),
		.size = len,
		.uid = imp->keep_uids ? uid : 0,
		.flags = flags,
		.keywords = clean_keywords(keywords),
		.internal_date = internal_date,
	};
	imp->batch_octets += len;
	if (imp->batch_count == BATCH_MESSAGES || imp->batch_octets >= BATCH_OCTETS)
		return batch_flush(imp);
	return 0;
}

void importer_unreadable(struct importer *imp)
{
	imp->unreadable++;
}

int importer_folder_end(struct importer *imp, uint32_t uidnext)
{
	if (batch_flush(imp) < 0)
		return -1;
	char *error = NULL;
	if (imp->keep_uids && uidnext > 1 &&
	    store_folder_raise_uidnext(imp->st, imp->folder.id, uidnext, &error) < 0)
		return cli_fail(error), -1;
	return 0;
}

/* A running server hears of the new messages: its indexer takes them and IDLE sessions see
 * them at once (without it, at the next delivery and within IDLE's poll). */
static void tell_server(struct importer *imp)
{
	char *socket = control_socket_path(imp->cli->cfg);
	int running = control_probe(socket);
	free(socket);
	if (running == 1) {
		char *request = xasprintf("imported %lld", (long long)imp->account_id);
		cli_control(imp->cli, request);
		free(request);
	}
}

int importer_finish(struct importer *imp, int status)
{
	if (imp->st != NULL && imp->imported > 0)
		tell_server(imp);
	if (imp->st != NULL && status == 0)
		printf("imported %llu messages into %u folders of %s; %llu already there, %llu over "
		       "smtp.max_message_size skipped, %llu unreadable\n",
		       (unsigned long long)imp->imported, imp->folders, imp->address,
		       (unsigned long long)imp->present, (unsigned long long)imp->too_big,
		       (unsigned long long)imp->unreadable);
	for (size_t i = 0; i < imp->batch_count; i++) {
		remove(imp->batch[i].spool_path);
		free(imp->batch[i].spool_path);
		free((char *)imp->batch[i].keywords);
	}
	folder_forget(imp);
	free(imp->batch);
	free(imp->tmp_dir);
	free(imp->address);
	return status != 0 ? status : imp->unreadable > 0;
}
