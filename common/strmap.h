/* A hash map from strings to pointers (chained, grows by doubling). */
#ifndef RTCS_STRMAP_H
#define RTCS_STRMAP_H
#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map; free_val (may be NULL) is called on every value. */
void	 strmap_free(struct strmap *, void (*free_val)(void *));
void	*strmap_get(const struct strmap *, const char *key);
/* Sets key (copied) to val; returns the value it replaces, or NULL. */
void	*strmap_put(struct strmap *, const char *key, void *val);
/* Removes key; returns its value, or NULL. */
void	*strmap_del(struct strmap *, const char *key);
size_t	 strmap_count(const struct strmap *);
/* Calls fn on every entry; fn must not change the map. */
void	 strmap_each(const struct strmap *, void (*fn)(const char *key, void *val, void *arg),
	    void *arg);
#endif
