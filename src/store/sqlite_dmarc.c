/* DMARC aggregate reports in the SQLite backend (schema version 8): the observations of our
 * DMARC evaluations and the reports other receivers sent us. A row's authentication results
 * are one text, a line per result with tab-separated fields ("dkim", d, s, result / "spf",
 * domain, scope, result), so identical rows group with one GROUP BY. */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

static char *auth_text(const struct dmarc_report_record *rec)
{
	buf b;
	buf_init(&b);
	for (size_t i = 0; i < rec->auth_count; i++) {
		const struct dmarc_report_auth *a = &rec->auth[i];
		buf_printf(&b, "%s%s\t%s\t%s\t%s", i > 0 ? "\n" : "", a->spf ? "spf" : "dkim", a->domain,
			   a->selector != NULL ? a->selector : "", a->result);
	}
	return buf_steal(&b);
}

static void auth_from_text(const char *text, struct dmarc_report_record *rec)
{
	char *copy = xstrdup(text), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { line, NULL, NULL, NULL };
		for (int i = 1; i < 4 && f[i - 1] != NULL; i++) {
			f[i] = strchr(f[i - 1], '\t');
			if (f[i] != NULL)
				*f[i]++ = '\0';
		}
		if (f[3] != NULL)
			dmarc_report_add_auth(rec, strcmp(f[0], "spf") == 0, f[1], f[2], f[3]);
	}
	free(copy);
}

static const char *char_text(char c, char *s)
{
	s[0] = c;
	s[1] = '\0';
	return c != 0 ? s : NULL;
}

static char column_char(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);
	return s != NULL ? (char)s[0] : 0;
}

int store_dmarc_observe(struct store *st, const struct dmarc_observation *o, char **error_r)
{
	const struct dmarc_policy_published *p = &o->policy;
	const struct dmarc_report_record *r = &o->rec;
	char adkim[2], aspf[2], testing[2];
	char *auth = auth_text(r);
	int status = db_exec(st, error_r,
			     "INSERT INTO dmarc_observations (at, policy_domain, p, sp, np, adkim, aspf, "
			     "testing, rua, source_ip, header_from, envelope_from, envelope_to, "
			     "disposition, dkim, spf, auth) "
			     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			     "issssssssssssssss", (int64_t)o->at, p->domain, p->p, p->sp, p->np,
			     char_text(p->adkim, adkim), char_text(p->aspf, aspf),
			     char_text(p->testing, testing), o->rua, r->source_ip, r->header_from,
			     r->envelope_from, r->envelope_to, r->disposition, r->dkim, r->spf, auth);
	free(auth);
	return status < 0 ? -1 : 0;
}

int store_dmarc_period_start(struct store *st, time_t limit, time_t *start_r, char **error_r)
{
	int64_t start = 0;
	int r = db_int(st, error_r, &start,
		       "SELECT coalesce((SELECT value FROM meta WHERE name = 'dmarc_reported_until'), "
		       "(SELECT min(at) FROM dmarc_observations WHERE at >= ?), 0)",
		       "i", (int64_t)limit);
	*start_r = (time_t)start;
	return r < 0 ? -1 : 0;
}

int store_dmarc_domains(struct store *st, time_t begin, time_t end, strlist *out, char **error_r)
{
	int r = db_strings(st, out, error_r,
			   "SELECT o.policy_domain || ' ' || (SELECT rua FROM dmarc_observations l "
			   "WHERE l.policy_domain = o.policy_domain AND l.at >= ?1 AND l.at < ?2 "
			   "ORDER BY l.at DESC, l.id DESC LIMIT 1) FROM dmarc_observations o "
			   "WHERE o.at >= ?1 AND o.at < ?2 GROUP BY o.policy_domain "
			   "ORDER BY o.policy_domain",
			   "ii", (int64_t)begin, (int64_t)end);
	return r < 0 ? -1 : 0;
}

/* policy_published from the latest observation of the period. 1, 0 none, -1. */
static int collect_policy(struct store *st, const char *domain, time_t begin, time_t end,
			  struct dmarc_policy_published *p, char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT policy_domain, p, sp, np, adkim, aspf, testing "
				     "FROM dmarc_observations WHERE policy_domain = ? AND at >= ? "
				     "AND at < ? ORDER BY at DESC, id DESC LIMIT 1",
				     "sii", domain, (int64_t)begin, (int64_t)end);
	int r = stmt != NULL ? db_step(st, stmt, error_r) : -1;
	if (r == 1) {
		p->domain = db_column_dup(stmt, 0);
		p->p = db_column_dup(stmt, 1);
		p->sp = db_column_dup(stmt, 2);
		p->np = db_column_dup(stmt, 3);
		p->adkim = column_char(stmt, 4);
		p->aspf = column_char(stmt, 5);
		p->testing = column_char(stmt, 6);
		sqlite3_reset(stmt);
	}
	return r;
}

int store_dmarc_collect(struct store *st, const char *domain, time_t begin, time_t end,
			struct dmarc_report *out, char **error_r)
{
	memset(out, 0, sizeof(*out));
	out->begin = begin;
	out->end = end;
	if (collect_policy(st, domain, begin, end, &out->policy, error_r) < 0)
		return -1;
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT source_ip, disposition, dkim, spf, header_from, "
				     "envelope_from, envelope_to, auth, count(*) FROM dmarc_observations "
				     "WHERE policy_domain = ? AND at >= ? AND at < ? "
				     "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8",
				     "sii", domain, (int64_t)begin, (int64_t)end);
	if (stmt == NULL)
		return -1;
	int r;
	while ((r = db_step(st, stmt, error_r)) == 1) {
		struct dmarc_report_record *rec = dmarc_report_add_record(out);
		rec->source_ip = db_column_dup(stmt, 0);
		rec->disposition = db_column_dup(stmt, 1);
		rec->dkim = db_column_dup(stmt, 2);
		rec->spf = db_column_dup(stmt, 3);
		rec->header_from = db_column_dup(stmt, 4);
		rec->envelope_from = db_column_dup(stmt, 5);
		rec->envelope_to = db_column_dup(stmt, 6);
		auth_from_text((const char *)sqlite3_column_text(stmt, 7), rec);
		rec->count = (uint64_t)sqlite3_column_int64(stmt, 8);
	}
	sqlite3_reset(stmt);
	if (r < 0)
		dmarc_report_free(out);
	return r < 0 ? -1 : 0;
}

int store_dmarc_reported(struct store *st, time_t end, time_t keep, char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int r = db_exec(st, error_r,
			"INSERT INTO meta VALUES ('dmarc_reported_until', ?) "
			"ON CONFLICT (name) DO UPDATE SET value = excluded.value",
			"i", (int64_t)end);
	if (r >= 0)
		r = db_exec(st, error_r, "DELETE FROM dmarc_observations WHERE at < ?", "i",
			    (int64_t)(end - keep));
	return db_finish(st, r < 0 ? -1 : 0, error_r);
}

int store_dmarc_report_add(struct store *st, const struct dmarc_report *r, time_t received,
			   char **error_r)
{
	if (db_begin(st, error_r) < 0)
		return -1;
	int added = db_exec(st, error_r,
			    "INSERT OR IGNORE INTO dmarc_reports (domain, org_name, email, report_id, "
			    "begin, end, received) VALUES (?, ?, ?, ?, ?, ?, ?)",
			    "ssssiii", r->policy.domain, r->org_name, r->email, r->report_id, r->begin,
			    r->end, (int64_t)received);
	int64_t id = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; added > 0 && i < r->record_count; i++) {
		const struct dmarc_report_record *rec = &r->records[i];
		if (db_exec(st, error_r,
			    "INSERT INTO dmarc_report_records (report, source_ip, count, disposition, "
			    "dkim, spf, header_from) VALUES (?, ?, ?, ?, ?, ?, ?)",
			    "isissss", id, rec->source_ip, (int64_t)rec->count, rec->disposition,
			    rec->dkim, rec->spf, rec->header_from) < 0)
			added = -1;
	}
	return db_finish(st, added < 0 ? -1 : added > 0, error_r);
}

static int report_records(struct store *st, int64_t id, struct dmarc_report *r, char **error_r)
{
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT source_ip, count, disposition, dkim, spf, header_from "
				     "FROM dmarc_report_records WHERE report = ? ORDER BY rowid",
				     "i", id);
	if (stmt == NULL)
		return -1;
	int status;
	while ((status = db_step(st, stmt, error_r)) == 1) {
		struct dmarc_report_record *rec = dmarc_report_add_record(r);
		rec->source_ip = db_column_dup(stmt, 0);
		rec->count = (uint64_t)sqlite3_column_int64(stmt, 1);
		rec->disposition = db_column_dup(stmt, 2);
		rec->dkim = db_column_dup(stmt, 3);
		rec->spf = db_column_dup(stmt, 4);
		rec->header_from = db_column_dup(stmt, 5);
	}
	sqlite3_reset(stmt);
	return status;
}

int store_dmarc_reports(struct store *st, const char *domain, time_t since,
			struct dmarc_report **out, size_t *count, char **error_r)
{
	*out = NULL;
	*count = 0;
	sqlite3_stmt *stmt = db_stmt(st, error_r,
				     "SELECT id, domain, org_name, email, report_id, begin, end "
				     "FROM dmarc_reports WHERE domain = ? AND end > ? ORDER BY begin, id",
				     "si", domain, (int64_t)since);
	if (stmt == NULL)
		return -1;
	int status;
	int64_t *ids = NULL;
	while ((status = db_step(st, stmt, error_r)) == 1) {
		*out = xrealloc(*out, (*count + 1) * sizeof(**out));
		ids = xrealloc(ids, (*count + 1) * sizeof(*ids));
		struct dmarc_report *r = &(*out)[(*count)++];
		memset(r, 0, sizeof(*r));
		ids[*count - 1] = sqlite3_column_int64(stmt, 0);
		r->policy.domain = db_column_dup(stmt, 1);
		r->org_name = db_column_dup(stmt, 2);
		r->email = db_column_dup(stmt, 3);
		r->report_id = db_column_dup(stmt, 4);
		r->begin = sqlite3_column_int64(stmt, 5);
		r->end = sqlite3_column_int64(stmt, 6);
	}
	sqlite3_reset(stmt);
	for (size_t i = 0; status == 0 && i < *count; i++)
		status = report_records(st, ids[i], &(*out)[i], error_r);
	free(ids);
	if (status < 0) {
		for (size_t i = 0; i < *count; i++)
			dmarc_report_free(&(*out)[i]);
		free(*out);
		*out = NULL;
		*count = 0;
		return -1;
	}
	return 0;
}
