/* SPDX-License-Identifier: MIT */
/*
 * cmd_image - `burette image --info`: what is in the guest image burette would boot
 *
 * The image is built by the build (guest/build-image.sh, target guest_image); this command
 * finds it the way `burette run` does and prints its manifest: kernel release and package
 * versions, modules, iperf3's libraries, file sizes and paths.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"
#include "cmd.h"
#include "errbuf.h"
#include "image.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: burette image [--info] [--dir DIR]\n\n"
               "Show what is in the guest image (kernel, packages, modules, sizes, paths).\n\n"
               "  --info      print the image's contents (the default)\n"
               "  --dir DIR   look in DIR instead of $BURETTE_IMAGE_DIR or <bindir>/../guest\n"
               "  -h, --help  this help\n\n"
               "The build makes the image: cmake --build <build dir> --target guest_image\n");
}

static void print_list(const char *title, json_t *arr)
{
    size_t i;
    json_t *v;

    printf("%-18s", title);
    json_array_foreach(arr, i, v) printf("%s%s", i ? ", " : "", json_string_value(v));
    printf("\n");
}

static int print_info(const struct guest_image *img)
{
    json_error_t jerr;
    json_t *m = json_load_file(img->manifest, 0, &jerr), *pkgs, *v;
    const char *name;
    struct stat st;

    if (!m) {
        fprintf(stderr,
                "burette: image: cannot read %s: %s (rebuild the image: cmake --build <build "
                "dir> --target guest_image)\n",
                img->manifest, jerr.text);
        return 1;
    }
    printf("%-18s%s\n", "directory", img->dir);
    printf("%-18s%s", "kernel", img->kernel);
    if (!stat(img->kernel, &st))
        printf(" (%lld bytes)", (long long)st.st_size);
    printf("\n%-18s%s", "initramfs", img->initrd);
    if (!stat(img->initrd, &st))
        printf(" (%lld bytes)", (long long)st.st_size);
    printf("\n%-18s%s\n", "kernel release",
           json_string_value(json_object_get(m, "kernel_release")));
    printf("%-18s%lld bytes\n", "agent", json_integer_value(json_object_get(m, "agent_bytes")));
    pkgs = json_object_get(m, "packages");
    printf("packages:\n");
    json_object_foreach(pkgs, name, v) printf("  %-32s %s\n", name, json_string_value(v));
    print_list("modules", json_object_get(m, "modules"));
    print_list("iperf3 libraries", json_object_get(m, "iperf3_libraries"));
    json_decref(m);
    return 0;
}

int cmd_image(int argc, char **argv)
{
    struct guest_image img;
    char err[ERRBUF_LEN];
    const char *dir = NULL;
    bool info = false; /* the only thing it does, so also what it does without --info */
    int status;
    const struct cli_option options[] = {
        CLI_OPTION("info", 0, CLI_FLAG, &info),
        CLI_OPTION("dir", 0, CLI_TEXT, &dir),
    };

    if (!cli_parse_options("image", argc, argv, options, sizeof(options) / sizeof(options[0]),
                           usage, 0, NULL, NULL, &status))
        return status;
    if (image_find(&img, dir, err, sizeof(err))) {
        fprintf(stderr, "burette: image: %s\n", err);
        return 1;
    }
    return print_info(&img);
}
