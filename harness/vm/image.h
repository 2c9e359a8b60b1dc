/* SPDX-License-Identifier: MIT */
/*
 * image - where the guest image (kernel + initramfs + manifest) is
 *
 * The build puts it in <build>/guest, and burette in <build>/bin, so the harness looks in
 * <dir of its own binary>/../guest. BURETTE_IMAGE_DIR, or an explicit directory, overrides that.
 */
#ifndef BURETTE_IMAGE_H
#define BURETTE_IMAGE_H

#include <limits.h>
#include <stddef.h>

#define IMAGE_KERNEL   "vmlinuz"
#define IMAGE_INITRD   "initramfs.cpio.gz"
#define IMAGE_MANIFEST "image.json"

struct guest_image {
    char dir[PATH_MAX];
    char kernel[PATH_MAX];
    char initrd[PATH_MAX];
    char manifest[PATH_MAX];
};

/**
 * image_find() - Locate the guest image and check that its files are there
 * @img:	Filled with the paths
 * @dir:	Directory to use; NULL: $BURETTE_IMAGE_DIR, else <bindir>/../guest
 * @err:	Error buffer of @errlen bytes
 * @errlen:	Size of @err
 *
 * Return: 0, or -ENOENT with a message saying how to build the image
 */
int image_find(struct guest_image *img, const char *dir, char *err, size_t errlen);

#endif /* BURETTE_IMAGE_H */
