/* SPDX-License-Identifier: MIT */
/*
 * variants - the runs of one `burette run`: backends, and named variants of a backend's options
 *
 * `--backend consomme,tap` asks for one run per backend, each labelled with its backend's
 * name. `--variant SPEC` adds one run, where SPEC is
 *
 *     [LABEL=]BACKEND[:OPTION=VALUE[,OPTION=VALUE...]]
 *
 * e.g. `fixed256=consomme:tcp-rx-buffer=256K,tcp-tx-buffer=256K`. The label is what comes
 * before the first '=' when that '=' comes before the first ':' (a label cannot hold ':' or
 * '=', and BACKEND cannot hold '='), so the split is never ambiguous; without one, the label
 * is the backend's name. Options are split at ',' and each at its first '=', so a value may
 * hold ':' (INITIAL:MAX). A variant starts from the run's global options (--tcp-rx-buffer...)
 * and overrides only what it names. Backends and their options come from the registry
 * (backends/backend.h): nothing here knows a backend by name.
 *
 * Invariants of a struct variant_list built with these functions: every backend is one this
 * program knows, every option belongs to its backend and has a valid value, and labels are
 * unique and safe as file names (they name the reports LABEL.json).
 */
#ifndef BURETTE_VARIANTS_H
#define BURETTE_VARIANTS_H

#include <stdbool.h>
#include <stddef.h>

#include "run_options.h"

#define VARIANT_LABEL_MAX 32 /* characters */
#define VARIANT_SPEC_MAX  256
#define VARIANT_MAX       16 /* runs in one `burette run` */

struct variant {
    char label[VARIANT_LABEL_MAX + 1];
    char spec[VARIANT_SPEC_MAX];   /* as given ("consomme" for a --backend entry) */
    const char *backend;           /* the static name of a backend of the registry */
    bool set[BACKEND_OPTION_MAX];  /* which options the spec names, by registry index */
    struct backend_options values; /* their values, where set */
};

struct variant_list {
    struct variant v[VARIANT_MAX];
    size_t n;
};

/**
 * variant_parse() - Parse one --variant SPEC
 * @spec:	[LABEL=]BACKEND[:OPTION=VALUE[,OPTION=VALUE...]]
 * @out:	Receives the variant
 * @err:	Error buffer of @errlen bytes; the message quotes @spec and names the part at fault
 * @errlen:	Size of @err
 *
 * Return: 0 or -EINVAL
 */
int variant_parse(const char *spec, struct variant *out, char *err, size_t errlen);

/**
 * variant_list_add() - Append @v to @l, refusing a label already there
 * @l:		List
 * @v:		A parsed variant
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, -EEXIST for a duplicate label, -E2BIG beyond VARIANT_MAX runs
 */
int variant_list_add(struct variant_list *l, const struct variant *v, char *err, size_t errlen);

/**
 * variant_list_add_backends() - Append one run per backend of a --backend list
 * @l:		List
 * @list:	"consomme,tap"
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, -EINVAL (unknown or empty name), -EEXIST or -E2BIG as variant_list_add()
 */
int variant_list_add_backends(struct variant_list *l, const char *list, char *err, size_t errlen);

/**
 * variant_apply() - Make @o the options of the run @v: its backend and its overrides
 * @v:		Variant
 * @o:		A copy of the run's global options, changed in place
 */
void variant_apply(const struct variant *v, struct run_options *o);

/**
 * variant_backend_names() - The backends a variant may name, for messages: "consomme, tap, ..."
 *
 * Return: a static string
 */
const char *variant_backend_names(void);

#endif /* BURETTE_VARIANTS_H */
