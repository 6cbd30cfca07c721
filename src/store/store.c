/* The parts of store.h that every backend shares: freeing the structures the interface hands
 * out and takes in. */
#include "store/store.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

void account_clear(struct account *a)
{
	xfree(&a->address);
	xfree(&a->password_hash);
	xfree(&a->scram_sha256);
	xfree(&a->apop_secret);
	a->id = 0;
}

void folder_clear(struct folder *f)
{
	xfree(&f->name);
	xfree(&f->special_use);
}

void message_clear(struct message *m)
{
	xfree(&m->keywords);
}

void delivery_free(struct delivery **dp)
{
	struct delivery *d = *dp;
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->local_count; i++)
		free(d->local[i].header_prefix);
	for (size_t i = 0; i < d->remote_count; i++) {
		free(d->remote[i].recipient);
		free(d->remote[i].orcpt);
	}
	free(d->local);
	free(d->remote);
	free(d->spool_path);
	free(d->sender);
	free(d->envid);
	free(d->queue_id);
	free(d->arc_results);
	free(d->error);
	free(d->body_path_r);
	dmarc_observation_free(&d->dmarc);
	free(d);
	*dp = NULL;
}

void dmarc_observation_free(struct dmarc_observation **op)
{
	struct dmarc_observation *o = *op;
	if (o == NULL)
		return;
	dmarc_policy_published_free(&o->policy);
	free(o->rua);
	dmarc_report_record_free(&o->rec);
	free(o);
	*op = NULL;
}

bool quota_allows(const struct quota *q, uint64_t octets, uint64_t messages)
{
	return (q->storage_limit < 0 || q->storage_used + octets <= (uint64_t)q->storage_limit) &&
	       (q->message_limit < 0 || q->messages_used + messages <= (uint64_t)q->message_limit);
}

bool quota_counts_folder(const char *special_use, bool exclude_trash_junk)
{
	return !exclude_trash_junk || special_use == NULL ||
	       (strcmp(special_use, "\\Trash") != 0 && strcmp(special_use, "\\Junk") != 0);
}
