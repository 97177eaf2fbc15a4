/* A hash map from strings to pointers (chained, grows by doubling). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "xmalloc.h"

struct strmap_entry {
	struct strmap_entry *next;
	uint64_t hash;
	char	*key;
	void	*val;
};

struct strmap {
	struct strmap_entry **buckets;
	size_t	 nbuckets;	/* a power of two */
	size_t	 count;
};

/* FNV-1a: keys are ids and hashes, short and already well spread. */
static uint64_t
strmap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

struct strmap *
strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof *m);

	m->nbuckets = 64;
	m->buckets = xcalloc(m->nbuckets, sizeof *m->buckets);
	return m;
}

void
strmap_free(struct strmap *m, void (*free_val)(void *))
{
	struct strmap_entry *e, *next;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nbuckets; i++) {
		for (e = m->buckets[i]; e != NULL; e = next) {
			next = e->next;
			if (free_val != NULL)
				free_val(e->val);
			free(e->key);
			free(e);
		}
	}
	free(m->buckets);
	free(m);
}

static struct strmap_entry **
strmap_find(const struct strmap *m, const char *key, uint64_t h)
{
	struct strmap_entry **ep = &m->buckets[h & (m->nbuckets - 1)];

	for (; *ep != NULL; ep = &(*ep)->next)
		if ((*ep)->hash == h && strcmp((*ep)->key, key) == 0)
			break;
	return ep;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_entry **ep = strmap_find(m, key, strmap_hash(key));

	return *ep != NULL ? (*ep)->val : NULL;
}

static void
strmap_grow(struct strmap *m)
{
	struct strmap_entry **nb, *e, *next;
	size_t i, n = m->nbuckets * 2;

	nb = xcalloc(n, sizeof *nb);
	for (i = 0; i < m->nbuckets; i++) {
		for (e = m->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(m->buckets);
	m->buckets = nb;
	m->nbuckets = n;
}

void *
strmap_put(struct strmap *m, const char *key, void *val)
{
	uint64_t h = strmap_hash(key);
	struct strmap_entry **ep = strmap_find(m, key, h), *e;
	void *old;

	if (*ep != NULL) {
		old = (*ep)->val;
		(*ep)->val = val;
		return old;
	}
	e = xcalloc(1, sizeof *e);
	e->hash = h;
	e->key = xstrdup(key);
	e->val = val;
	*ep = e;
	if (++m->count > m->nbuckets)
		strmap_grow(m);
	return NULL;
}

void *
strmap_del(struct strmap *m, const char *key)
{
	struct strmap_entry **ep = strmap_find(m, key, strmap_hash(key)), *e;
	void *val;

	if ((e = *ep) == NULL)
		return NULL;
	*ep = e->next;
	val = e->val;
	free(e->key);
	free(e);
	m->count--;
	return val;
}

size_t
strmap_count(const struct strmap *m)
{
	return m->count;
}

void
strmap_each(const struct strmap *m, void (*fn)(const char *, void *, void *), void *arg)
{
	struct strmap_entry *e;
	size_t i;

	for (i = 0; i < m->nbuckets; i++)
		for (e = m->buckets[i]; e != NULL; e = e->next)
			fn(e->key, e->val, arg);
}
