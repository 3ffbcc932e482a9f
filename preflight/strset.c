#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot of s in a table of cap (a power of two) slots: where it is,
 * or the empty one where it goes. */
static size_t probe_slot(char **tab, size_t cap, const char *s)
{
	size_t i = (size_t)hash(s) & (cap - 1);

	while (tab[i] && strcmp(tab[i], s) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow(struct sg_strset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 64;
	char **tab = calloc(cap, sizeof(*tab));

	if (tab == NULL)
		return -1;
	for (size_t i = 0; i < set->cap; i++)
		if (set->tab[i])
			tab[probe_slot(tab, cap, set->tab[i])] = set->tab[i];
	free(set->tab);
	set->tab = tab;
	set->cap = cap;
	return 0;
}

const char *sg_strset_add(struct sg_strset *set, const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return "";
	if (2 * (set->n + 1) > set->cap && grow(set) != 0)
		return NULL;
	i = probe_slot(set->tab, set->cap, s);
	if (set->tab[i] == NULL) {
		set->tab[i] = strdup(s);
		if (set->tab[i] == NULL)
			return NULL;
		set->n++;
	}
	return set->tab[i];
}

void sg_strset_free(struct sg_strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->tab[i]);
	free(set->tab);
	memset(set, 0, sizeof(*set));
}

const char *sg_text(const char *s)
{
	static struct sg_strset texts;
	const char *kept = sg_strset_add(&texts, s);

	return kept ? kept : "out of memory";
}
