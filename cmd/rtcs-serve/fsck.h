/* rtcs-serve --fsck and --print-key (fsck.c). */
#ifndef RTCS_SERVE_FSCK_H
#define RTCS_SERVE_FSCK_H
#include "config.h"

int	 fsck_run(struct config *);
/* rtcs-serve --print-key: the line that clients keep for this server. */
int	 printkey_run(struct config *);
#endif
