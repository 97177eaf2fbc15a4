/* rtcs-serve --fsck (fsck.c). */
#ifndef RTCS_SERVE_FSCK_H
#define RTCS_SERVE_FSCK_H
#include "config.h"

int	 fsck_run(struct config *);
#endif
