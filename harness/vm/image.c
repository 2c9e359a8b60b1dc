/* SPDX-License-Identifier: MIT */
/* image - finding the guest image next to the burette binary, or where the user says. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"

static int join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

    return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int image_find(struct guest_image *img, const char *dir, char *err, size_t errlen)
{
    const char *how = "the directory given";
    char self[PATH_MAX];
    ssize_t n;

    if (!dir || !*dir) {
        dir = getenv("BURETTE_IMAGE_DIR");
        how = "BURETTE_IMAGE_DIR";
    }
    if (dir && *dir) {
        if (strlen(dir) >= sizeof(img->dir))
            return errbuf_set(err, errlen, -ENAMETOOLONG, "image directory path too long");
        strcpy(img->dir, dir);
    } else {
        how = "next to the burette binary";
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0)
            return errbuf_set(err, errlen, -errno,
                              "cannot find the burette binary (/proc/self/exe): %s; set "
                              "BURETTE_IMAGE_DIR to the guest image directory",
                              strerror(errno));
        self[n] = '\0';
        if (snprintf(img->dir, sizeof(img->dir), "%s/../guest", dirname(self)) >=
            (int)sizeof(img->dir))
            return errbuf_set(err, errlen, -ENAMETOOLONG, "image directory path too long");
    }
    if (join(img->kernel, img->dir, IMAGE_KERNEL) || join(img->initrd, img->dir, IMAGE_INITRD) ||
        join(img->manifest, img->dir, IMAGE_MANIFEST))
        return errbuf_set(err, errlen, -ENAMETOOLONG, "image directory path too long");
    if (access(img->kernel, R_OK) || access(img->initrd, R_OK))
        return errbuf_set(err, errlen, -ENOENT,
                          "no guest image in %s (%s): %s or %s is missing or unreadable; build "
                          "it with 'cmake --build <build dir> --target guest_image', or set "
                          "BURETTE_IMAGE_DIR to a directory holding one",
                          img->dir, how, IMAGE_KERNEL, IMAGE_INITRD);
    return 0;
}
