/* RFC 5256's THREAD algorithms on a tree of nodes: each searched message is one, and
 * REFERENCES adds a dummy for each Message ID referred to but not searched. Children are
 * linked lists; every walk of the tree is iterative, so a deep thread cannot exhaust the
 * stack. */
#include "imap/imap_thread.h"
#include "core/xalloc.h"
#include <stdlib.h>
#include <string.h>

#define NONE SIZE_MAX

struct node {
	size_t msg;                 /* index in msgs, NONE for a dummy */
	size_t parent, child, last, next;
};

struct tree {
	const struct thread_message *msgs;
	struct node *nodes;
	size_t count, cap;
};

/* A string-keyed hash table (open addressing) of node indexes. */
struct table {
	const char **keys;
	size_t *values;
	size_t size;                /* a power of two, over twice the keys it will hold */
	bool fold;                  /* keys compared as imap_sort_strcmp compares them */
};

/* Upper case, as i;unicode-casemap's titlecasing makes ASCII letters. */
static int fold(int c)
{
	return c >= 'a' && c <= 'z' ? c - 0x20 : c;
}

int imap_sort_strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	while (*x != '\0' && fold(*x) == fold(*y))
		x++, y++;
	return fold(*x) - fold(*y);
}

static void table_init(struct table *t, size_t keys, bool folded)
{
	t->size = 16;
	while (t->size < 2 * keys + 2)
		t->size *= 2;
	t->keys = xcalloc(t->size, sizeof(*t->keys));
	t->values = xcalloc(t->size, sizeof(*t->values));
	t->fold = folded;
}

static void table_free(struct table *t)
{
	free(t->keys);
	free(t->values);
}

/* The slot of key: where it is, or the empty one where it goes. */
static size_t table_slot(const struct table *t, const char *key)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
		h = (h ^ (uint64_t)(t->fold ? fold(*p) : *p)) * 1099511628211ull;
	size_t i = (size_t)h & (t->size - 1);
	while (t->keys[i] != NULL &&
	       (t->fold ? imap_sort_strcmp(t->keys[i], key) : strcmp(t->keys[i], key)) != 0)
		i = (i + 1) & (t->size - 1);
	return i;
}

static size_t table_get(const struct table *t, const char *key)
{
	size_t i = table_slot(t, key);
	return t->keys[i] != NULL ? t->values[i] : NONE;
}

static void table_put(struct table *t, const char *key, size_t value)
{
	size_t i = table_slot(t, key);
	t->keys[i] = key;
	t->values[i] = value;
}

static size_t node_new(struct tree *t, size_t msg)
{
	if (t->count == t->cap)
		t->nodes = xrealloc(t->nodes, (t->cap = t->cap ? 2 * t->cap : 64) * sizeof(*t->nodes));
	t->nodes[t->count] = (struct node){ msg, NONE, NONE, NONE, NONE };
	return t->count++;
}

static bool dummy(const struct tree *t, size_t x)
{
	return t->nodes[x].msg == NONE;
}

static void unlink_node(struct tree *t, size_t x)
{
	struct node *n = &t->nodes[x];
	if (n->parent == NONE)
		return;
	struct node *p = &t->nodes[n->parent];
	size_t prev = NONE;
	for (size_t c = p->child; c != x; c = t->nodes[c].next)
		prev = c;
	if (prev == NONE)
		p->child = n->next;
	else
		t->nodes[prev].next = n->next;
	if (p->last == x)
		p->last = prev;
	n->parent = n->next = NONE;
}

/* Makes x the last child of parent (leaving its old parent). */
static void link_node(struct tree *t, size_t parent, size_t x)
{
	unlink_node(t, x);
	struct node *p = &t->nodes[parent];
	if (p->last == NONE)
		p->child = x;
	else
		t->nodes[p->last].next = x;
	p->last = x;
	t->nodes[x].parent = parent;
}

/* Whether a is b or lies below it: linking b under a would make a loop. */
static bool below(const struct tree *t, size_t a, size_t b)
{
	for (; a != NONE; a = t->nodes[a].parent)
		if (a == b)
			return true;
	return false;
}

/* The message that stands for x when sorting and naming its subject: a dummy's first child. */
static size_t stand_in(const struct tree *t, size_t x)
{
	while (dummy(t, x) && t->nodes[x].child != NONE)
		x = t->nodes[x].child;
	return x;
}

/* Sent date, then mailbox order (RFC 5256 2.2). */
static int by_date(const void *a, const void *b, void *arg)
{
	const struct tree *t = arg;
	size_t x = stand_in(t, *(const size_t *)a), y = stand_in(t, *(const size_t *)b);
	size_t mx = t->nodes[x].msg, my = t->nodes[y].msg;
	if (mx == NONE || my == NONE)
		return (mx == NONE) - (my == NONE);
	time_t dx = t->msgs[mx].sent, dy = t->msgs[my].sent;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return mx < my ? -1 : mx > my;
}

static size_t children(const struct tree *t, size_t x, size_t **out)
{
	size_t n = 0;
	for (size_t c = t->nodes[x].child; c != NONE; c = t->nodes[c].next)
		n++;
	*out = xcalloc(n + 1, sizeof(**out));
	n = 0;
	for (size_t c = t->nodes[x].child; c != NONE; c = t->nodes[c].next)
		(*out)[n++] = c;
	return n;
}

/* Replaces x's children by list[0..n) (NONE entries skipped), in that order. */
static void set_children(struct tree *t, size_t x, const size_t *list, size_t n)
{
	t->nodes[x].child = t->nodes[x].last = NONE;
	for (size_t i = 0; i < n; i++)
		if (list[i] != NONE)
			t->nodes[list[i]].parent = t->nodes[list[i]].next = NONE;
	for (size_t i = 0; i < n; i++)
		if (list[i] != NONE)
			link_node(t, x, list[i]);
}

static void sort_children(struct tree *t, size_t x)
{
	size_t *list;
	size_t n = children(t, x, &list);
	if (n > 1) {
		qsort_r(list, n, sizeof(*list), by_date, t);
		set_children(t, x, list, n);
	}
	free(list);
}

/* The nodes under root with every node after all those below it. */
static size_t bottom_up(const struct tree *t, size_t root, size_t **out)
{
	size_t *order = xcalloc(t->count + 1, sizeof(*order)), n = 0;
	size_t *stack = xcalloc(t->count + 1, sizeof(*stack)), depth = 0;
	stack[depth++] = root;
	while (depth > 0) {
		size_t x = stack[--depth];
		order[n++] = x;
		for (size_t c = t->nodes[x].child; c != NONE; c = t->nodes[c].next)
			stack[depth++] = c;
	}
	free(stack);
	for (size_t i = 0; i < n / 2; i++) {
		size_t tmp = order[i];
		order[i] = order[n - 1 - i];
		order[n - 1 - i] = tmp;
	}
	*out = order;
	return n;
}

/* (3) Dummies go: one without children is deleted, one with children gives way to them,
 * except under the root, where only a single child is promoted. */
static void prune(struct tree *t, size_t root)
{
	size_t *order;
	size_t n = bottom_up(t, root, &order);
	for (size_t i = 0; i < n; i++) {
		size_t x = order[i], *list;
		size_t count = children(t, x, &list), kept = 0;
		size_t *out = xcalloc(t->count + 1, sizeof(*out));
		for (size_t j = 0; j < count; j++) {
			size_t c = list[j];
			size_t *grand;
			size_t g = children(t, c, &grand);
			if (!dummy(t, c) || (x == root && g > 1))
				out[kept++] = c;
			else
				for (size_t k = 0; k < g; k++)
					out[kept++] = grand[k];
			free(grand);
		}
		set_children(t, x, out, kept);
		free(out);
		free(list);
	}
	free(order);
}

static const char *thread_subject(const struct tree *t, size_t x)
{
	size_t m = t->nodes[stand_in(t, x)].msg;
	return m != NONE ? t->msgs[m].subject : "";
}

static bool is_reply(const struct tree *t, size_t x)
{
	return !dummy(t, x) && t->msgs[t->nodes[x].msg].reply;
}

/* (5) Threads under the root with the same base subject are gathered. */
static void gather_subjects(struct tree *t, size_t root)
{
	size_t *list;
	size_t n = children(t, root, &list);
	struct table subjects;
	table_init(&subjects, n, true);
	for (size_t i = 0; i < n; i++) {
		size_t x = list[i];
		const char *subject = thread_subject(t, x);
		if (*subject == '\0')
			continue;
		size_t y = table_get(&subjects, subject);
		if (y == NONE || (!dummy(t, y) && (dummy(t, x) || (is_reply(t, y) && !is_reply(t, x)))))
			table_put(&subjects, subject, x);
	}
	size_t *slot = xcalloc(t->count + n + 1, sizeof(*slot)); /* where a root child is in list */
	for (size_t i = 0; i < n; i++)
		slot[list[i]] = i;
	for (size_t i = 0; i < n; i++) {
		size_t x = list[i];
		if (x == NONE)
			continue;
		const char *subject = thread_subject(t, x);
		size_t y = *subject != '\0' ? table_get(&subjects, subject) : NONE;
		if (y == NONE || y == x)
			continue;
		list[i] = NONE;
		if (dummy(t, x) && dummy(t, y)) {
			size_t *grand;
			size_t g = children(t, x, &grand);
			for (size_t k = 0; k < g; k++)
				link_node(t, y, grand[k]);
			free(grand);
		} else if (dummy(t, y) || (is_reply(t, x) && !is_reply(t, y))) {
			link_node(t, y, x);
		} else {
			size_t d = node_new(t, NONE);
			list[slot[y]] = d;
			slot[d] = slot[y];
			link_node(t, d, y);
			link_node(t, d, x);
			table_put(&subjects, subject, d);
		}
	}
	set_children(t, root, list, n);
	free(slot);
	free(list);
	table_free(&subjects);
}

/* Writes the members of the thread from x: a chain of numbers while each has one child,
 * then the sub-threads, each parenthesised. */
static void write_thread(const struct tree *t, size_t x, buf *out)
{
	size_t *stack = xcalloc(t->count + 1, sizeof(*stack)), depth = 0;
	for (;;) {
		bool wrote = false;
		while (x != NONE) {
			const struct node *n = &t->nodes[x];
			if (!dummy(t, x)) {
				buf_printf(out, wrote ? " %u" : "%u", t->msgs[n->msg].number);
				wrote = true;
			}
			if (n->child == NONE)
				break;
			if (n->child == n->last && !dummy(t, x)) {
				x = n->child;
				continue;
			}
			buf_puts(out, wrote ? " (" : "(");
			stack[depth++] = t->nodes[n->child].next;
			x = n->child;
			wrote = false;
		}
		x = NONE;
		while (depth > 0 && x == NONE) {
			buf_putc(out, ')');
			x = stack[--depth];
			if (x != NONE) {
				buf_putc(out, '(');
				stack[depth++] = t->nodes[x].next;
			}
		}
		if (x == NONE)
			break;
	}
	free(stack);
}

static void write_threads(const struct tree *t, size_t root, buf *out)
{
	for (size_t x = t->nodes[root].child; x != NONE; x = t->nodes[x].next) {
		buf_putc(out, '(');
		write_thread(t, x, out);
		buf_putc(out, ')');
	}
}

/* Base subject, then sent date, then mailbox order. */
static int by_subject(const void *a, const void *b, void *arg)
{
	const struct thread_message *msgs = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = imap_sort_strcmp(msgs[x].subject, msgs[y].subject);
	if (c != 0)
		return c;
	if (msgs[x].sent != msgs[y].sent)
		return msgs[x].sent < msgs[y].sent ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* ORDEREDSUBJECT: one thread per base subject, its first message the parent of the others,
 * threads in the order of their first messages' dates. */
static size_t ordered_subject(struct tree *t, size_t n)
{
	size_t *order = xcalloc(n + 1, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = node_new(t, i);
	qsort_r(order, n, sizeof(*order), by_subject, (void *)t->msgs);
	size_t root = node_new(t, NONE), first = NONE;
	for (size_t i = 0; i < n; i++) {
		size_t x = order[i];
		if (first != NONE && imap_sort_strcmp(t->msgs[first].subject, t->msgs[x].subject) == 0) {
			link_node(t, first, x);
		} else {
			link_node(t, root, x);
			first = x;
		}
	}
	sort_children(t, root);
	free(order);
	return root;
}

static size_t id_node(struct tree *t, struct table *ids, const char *id)
{
	size_t x = table_get(ids, id);
	if (x == NONE) {
		x = node_new(t, NONE);
		table_put(ids, id, x);
	}
	return x;
}

/* REFERENCES, steps (1) to (6). */
static size_t references(struct tree *t, size_t n)
{
	size_t keys = n;
	for (size_t i = 0; i < n; i++)
		keys += t->msgs[i].refs != NULL ? t->msgs[i].refs->count : 0;
	struct table ids;
	table_init(&ids, keys, false);
	for (size_t i = 0; i < n; i++) {
		const struct thread_message *m = &t->msgs[i];
		size_t me = m->message_id != NULL ? table_get(&ids, m->message_id) : NONE;
		if (me != NONE && dummy(t, me)) {
			t->nodes[me].msg = i;
		} else {
			bool unique = m->message_id != NULL && me == NONE;
			me = node_new(t, i);
			if (unique) /* a duplicate ID stays the first message's */
				table_put(&ids, m->message_id, me);
		}
		size_t prev = NONE;
		for (size_t r = 0; m->refs != NULL && r < m->refs->count; r++) {
			size_t cur = id_node(t, &ids, m->refs->items[r]);
			if (prev != NONE && t->nodes[cur].parent == NONE && !below(t, prev, cur))
				link_node(t, prev, cur);
			prev = cur;
		}
		unlink_node(t, me);
		if (prev != NONE && !below(t, prev, me))
			link_node(t, prev, me);
	}
	table_free(&ids);
	size_t root = node_new(t, NONE);
	for (size_t x = 0; x < root; x++)
		if (t->nodes[x].parent == NONE)
			link_node(t, root, x);
	prune(t, root);
	for (size_t x = t->nodes[root].child; x != NONE; x = t->nodes[x].next)
		if (dummy(t, x))
			sort_children(t, x);
	sort_children(t, root);
	gather_subjects(t, root);
	size_t *order;
	size_t count = bottom_up(t, root, &order);
	for (size_t i = 0; i < count; i++)
		sort_children(t, order[i]);
	free(order);
	return root;
}

void imap_thread_write(enum thread_alg alg, const struct thread_message *msgs, size_t n, buf *out)
{
	struct tree t = { .msgs = msgs };
	size_t root = alg == THREAD_ORDEREDSUBJECT ? ordered_subject(&t, n) : references(&t, n);
	write_threads(&t, root, out);
	free(t.nodes);
}

void thread_msgids(const char *value, size_t len, strlist *out)
{
	buf id;
	buf_init(&id);
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '(' || (value[i] == ')' && depth > 0)) {
			depth += value[i] == '(' ? 1 : -1;
			continue;
		}
		if (depth > 0 || value[i] != '<')
			continue;
		buf_clear(&id);
		size_t j = i + 1;
		for (; j < len && value[j] != '>' && value[j] != '<'; j++) {
			char c = value[j];
			if (c == '\\' && j + 1 < len)
				buf_putc(&id, value[++j]);
			else if (c != '"' && c != ' ' && c != '\t' && c != '\r' && c != '\n')
				buf_putc(&id, c);
		}
		if (j >= len || value[j] != '>')
			continue;
		i = j;
		const char *at = strrchr(id.data, '@');
		if (at != NULL && at > id.data && at[1] != '\0' && memchr(id.data, '\0', id.len) == NULL)
			strlist_add(out, id.data);
	}
	buf_free(&id);
}
