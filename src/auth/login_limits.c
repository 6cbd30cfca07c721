/* The login limits; see login_limits.h. One chained hash table holds four kinds of entry:
 * pairs (failures of an account from an address group), the two sums over pairs (per address
 * group and per account, which live exactly as long as they have pairs), and known pairs
 * (successes). Pairs and known pairs also sit in a list from oldest to newest, so expiry
 * takes from the front, and the table's size is capped by dropping the oldest. */
#include "auth/login_limits.h"
#include "core/netaddr.h"
#include "core/xalloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096
/* Bounds on memory whatever clients send: past these the oldest entry makes room. */
#define MAX_PAIRS 65536
#define MAX_KNOWN 65536

enum kind { PAIR, KNOWN, ADDRESS, ACCOUNT };

struct entry {
	enum kind kind;
	char *group;     /* the address group ("" for ACCOUNT) */
	char *account;   /* lower-cased ("" for ADDRESS) */
	int failures;    /* PAIR: its own; ADDRESS, ACCOUNT: the sum over their pairs */
	int pairs;       /* ADDRESS, ACCOUNT: how many pairs they sum */
	time_t stamp;    /* PAIR: its last failure; KNOWN: its last success */
	struct entry *next;           /* in the bucket */
	struct entry *older, *newer;  /* PAIR, KNOWN: in their age list */
};

struct age_list {
	struct entry *oldest, *newest;
	size_t count;
};

struct login_limits {
	struct login_limit_settings set;
	struct netaddr_net *trusted;
	size_t trusted_count;
	struct entry *buckets[BUCKETS];
	struct age_list pairs, known;
};

static unsigned entry_hash(enum kind kind, const char *group, const char *account)
{
	unsigned h = 2166136261u ^ (unsigned)kind;
	for (const char *p = group; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0xffu) * 16777619u; /* separates "ab"+"c" from "a"+"bc" */
	for (const char *p = account; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % BUCKETS;
}

static struct entry *find(const struct login_limits *l, enum kind kind, const char *group,
			  const char *account)
{
	for (struct entry *e = l->buckets[entry_hash(kind, group, account)]; e; e = e->next)
		if (e->kind == kind && strcmp(e->group, group) == 0 &&
		    strcmp(e->account, account) == 0)
			return e;
	return NULL;
}

static struct entry *add(struct login_limits *l, enum kind kind, const char *group,
			 const char *account)
{
	struct entry *e = xcalloc(1, sizeof(*e));
	e->kind = kind;
	e->group = xstrdup(group);
	e->account = xstrdup(account);
	struct entry **b = &l->buckets[entry_hash(kind, group, account)];
	e->next = *b;
	*b = e;
	return e;
}

static struct entry *find_or_add(struct login_limits *l, enum kind kind, const char *group,
				 const char *account)
{
	struct entry *e = find(l, kind, group, account);
	return e != NULL ? e : add(l, kind, group, account);
}

static struct age_list *age_list_of(struct login_limits *l, const struct entry *e)
{
	return e->kind == PAIR ? &l->pairs : e->kind == KNOWN ? &l->known : NULL;
}

static void age_unlink(struct age_list *list, struct entry *e)
{
	*(e->older ? &e->older->newer : &list->oldest) = e->newer;
	*(e->newer ? &e->newer->older : &list->newest) = e->older;
	e->older = e->newer = NULL;
	list->count--;
}

/* Makes e the newest of its list, stamped now (the clock never goes back, so the list stays
 * in the order of the stamps). */
static void age_touch(struct login_limits *l, struct entry *e, time_t now)
{
	struct age_list *list = age_list_of(l, e);
	if (e->older != NULL || list->oldest == e)
		age_unlink(list, e);
	e->stamp = now;
	e->older = list->newest;
	*(list->newest ? &list->newest->newer : &list->oldest) = e;
	list->newest = e;
	list->count++;
}

static void destroy(struct login_limits *l, struct entry *e)
{
	struct age_list *list = age_list_of(l, e);
	if (list != NULL)
		age_unlink(list, e);
	struct entry **p = &l->buckets[entry_hash(e->kind, e->group, e->account)];
	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	free(e->group);
	free(e->account);
	free(e);
}

/* Takes one pair's failures out of its sums, then the pair itself. */
static void pair_forget(struct login_limits *l, struct entry *pair)
{
	struct entry *sums[2] = { find(l, ADDRESS, pair->group, ""),
				  find(l, ACCOUNT, "", pair->account) };
	for (int i = 0; i < 2; i++) {
		sums[i]->failures -= pair->failures;
		if (--sums[i]->pairs == 0)
			destroy(l, sums[i]);
	}
	destroy(l, pair);
}

static void expire(struct login_limits *l, time_t now)
{
	while (l->pairs.oldest != NULL && l->pairs.oldest->stamp + l->set.window <= now)
		pair_forget(l, l->pairs.oldest);
	while (l->known.oldest != NULL && l->known.oldest->stamp + l->set.known_time <= now)
		destroy(l, l->known.oldest);
}

/* A limit of 0 is no limit. */
static bool reached(int count, int max)
{
	return max > 0 && count >= max;
}

time_t login_limits_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct login_limits *login_limits_new(void)
{
	return xcalloc(1, sizeof(struct login_limits));
}

void login_limits_free(struct login_limits **lp)
{
	struct login_limits *l = *lp;
	if (l == NULL)
		return;
	for (int i = 0; i < BUCKETS; i++)
		while (l->buckets[i] != NULL)
			destroy(l, l->buckets[i]);
	free(l->trusted);
	free(l);
	*lp = NULL;
}

void login_limits_set(struct login_limits *l, const struct login_limit_settings *s)
{
	l->set = *s;
}

int login_limits_trust(struct login_limits *l, const char *networks, char **error_r)
{
	struct netaddr_net *nets;
	int n = netaddr_networks_parse(networks, &nets, error_r);
	if (n < 0)
		return -1;
	free(l->trusted);
	l->trusted = nets;
	l->trusted_count = (size_t)n;
	return 0;
}

static bool trusted(const struct login_limits *l, const char *ip)
{
	return netaddr_networks_contain(l->trusted, l->trusted_count, ip);
}

/* ip's group; an address that is not one (a conn's "unknown") is its own group. */
static void group_of(const char *ip, char group[NETADDR_GROUP_MAX])
{
	if (!netaddr_group(ip, group))
		snprintf(group, NETADDR_GROUP_MAX, "%s", ip);
}

static enum login_limit verdict(struct login_limits *l, const char *group, const char *account)
{
	struct entry *pair = find(l, PAIR, group, account);
	if (pair != NULL && reached(pair->failures, l->set.max_per_pair))
		return LOGIN_LIMIT_PAIR;
	if (find(l, KNOWN, group, account) != NULL)
		return LOGIN_LIMIT_NONE;
	struct entry *address = find(l, ADDRESS, group, "");
	/* accounts already failing from here go on to their own pair limit */
	if (pair == NULL && address != NULL && reached(address->pairs, l->set.max_accounts_per_ip))
		return LOGIN_LIMIT_ADDRESS;
	struct entry *sum = find(l, ACCOUNT, "", account);
	if (sum != NULL && reached(sum->failures, l->set.max_per_account))
		return LOGIN_LIMIT_ACCOUNT;
	return LOGIN_LIMIT_NONE;
}

static void count_failure(struct login_limits *l, const char *group, const char *account,
			  time_t now)
{
	struct entry *pair = find(l, PAIR, group, account);
	if (pair == NULL) {
		if (l->pairs.count >= MAX_PAIRS)
			pair_forget(l, l->pairs.oldest);
		pair = add(l, PAIR, group, account);
		find_or_add(l, ADDRESS, group, "")->pairs++;
		find_or_add(l, ACCOUNT, "", account)->pairs++;
	}
	pair->failures++;
	age_touch(l, pair, now);
	find(l, ADDRESS, group, "")->failures++;
	find(l, ACCOUNT, "", account)->failures++;
}

enum login_limit login_limits_begin(struct login_limits *l, const char *ip, const char *account,
				    time_t now)
{
	if (trusted(l, ip))
		return LOGIN_LIMIT_NONE;
	expire(l, now);
	char group[NETADDR_GROUP_MAX];
	group_of(ip, group);
	char *key = xstrdup_ascii_lower(account);
	enum login_limit v = verdict(l, group, key);
	if (v == LOGIN_LIMIT_NONE)
		count_failure(l, group, key, now);
	free(key);
	return v;
}

void login_limits_succeeded(struct login_limits *l, const char *ip, const char *account,
			    time_t now)
{
	if (trusted(l, ip))
		return;
	expire(l, now);
	char group[NETADDR_GROUP_MAX];
	group_of(ip, group);
	char *key = xstrdup_ascii_lower(account);
	struct entry *pair = find(l, PAIR, group, key);
	if (pair != NULL)
		pair_forget(l, pair);
	struct entry *known = find(l, KNOWN, group, key);
	if (known == NULL) {
		if (l->known.count >= MAX_KNOWN)
			destroy(l, l->known.oldest);
		known = add(l, KNOWN, group, key);
	}
	age_touch(l, known, now);
	free(key);
}

int login_limits_address_failures(struct login_limits *l, const char *ip, time_t now)
{
	if (trusted(l, ip))
		return 0;
	expire(l, now);
	char group[NETADDR_GROUP_MAX];
	group_of(ip, group);
	struct entry *address = find(l, ADDRESS, group, "");
	return address != NULL ? address->failures : 0;
}

/* When a sum's refusal lifts by itself: its pairs expire oldest first, and it lifts when the
 * rest no longer reaches the limit. */
static time_t lifts_at(const struct login_limits *l, const struct entry *sum)
{
	bool by_address = sum->kind == ADDRESS;
	int left = by_address ? sum->pairs : sum->failures;
	int max = by_address ? l->set.max_accounts_per_ip : l->set.max_per_account;
	for (const struct entry *p = l->pairs.oldest; p != NULL; p = p->newer) {
		const char *key = by_address ? sum->group : sum->account;
		if (strcmp(by_address ? p->group : p->account, key) != 0)
			continue;
		left -= by_address ? 1 : p->failures;
		if (left < max)
			return p->stamp + l->set.window;
	}
	return 0;
}

void login_limits_list(struct login_limits *l, time_t now, buf *out)
{
	expire(l, now);
	for (int i = 0; i < BUCKETS; i++) {
		for (const struct entry *e = l->buckets[i]; e != NULL; e = e->next) {
			if (e->kind == PAIR && reached(e->failures, l->set.max_per_pair))
				buf_printf(out, "ip=%s account=%s failures=%d left=%llds\n", e->group,
					   e->account, e->failures,
					   (long long)(e->stamp + l->set.window - now));
			else if (e->kind == ADDRESS && reached(e->pairs, l->set.max_accounts_per_ip))
				buf_printf(out, "ip=%s accounts=%d failures=%d left=%llds\n", e->group,
					   e->pairs, e->failures, (long long)(lifts_at(l, e) - now));
			else if (e->kind == ACCOUNT && reached(e->failures, l->set.max_per_account))
				buf_printf(out, "account=%s failures=%d left=%llds\n", e->account,
					   e->failures, (long long)(lifts_at(l, e) - now));
		}
	}
}

int login_limits_unblock(struct login_limits *l, const char *address_or_account, time_t now)
{
	expire(l, now);
	char group[NETADDR_GROUP_MAX];
	bool by_address = netaddr_group(address_or_account, group);
	char *account = by_address ? NULL : xstrdup_ascii_lower(address_or_account);
	int n = 0;
	for (struct entry *p = l->pairs.oldest, *newer; p != NULL; p = newer) {
		newer = p->newer;
		if (strcmp(by_address ? p->group : p->account, by_address ? group : account) == 0) {
			pair_forget(l, p);
			n++;
		}
	}
	free(account);
	return n;
}
